"""The campaign page's gap panel: the diff of the newest snapshot and the stale reminder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.gap import ImportFn
from tests.gap.mixed_exports import SITE

pytestmark = pytest.mark.postgres


def test_campaign_page_shows_the_diff_and_reminds_when_the_snapshot_is_stale(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    from datetime import timedelta

    campaign = team["campaign"]
    first = import_files(campaign, exports.values())
    first.finished_at = first.finished_at - timedelta(days=200)
    db.session.commit()
    client.login(team["specialist"].email)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="stale-reminder"' in page and "200 days old" in page
    del exports[SITE]
    import_files(campaign, exports.values())
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="stale-reminder"' not in page and 'id="snapshot-diff"' in page
