"""The gap panel of the prospect page: why a prospect is hidden, and restoring it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.models import Prospect
from tests.fixtures.gap import ImportFn

pytestmark = pytest.mark.postgres


def test_hidden_prospect_shows_why_and_is_restored_from_its_page(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    spammy = db.session.scalar(select(Prospect).where(Prospect.domain == "spammy.xyz"))
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{spammy.id}"
    page = client.get(url).get_data(as_text=True)
    assert "flagged as spam" in page and "the SEO tool flags this domain as spam" in page
    assert "rival-a.com" in page and "Links links links" in page  # evidence by competitor
    response = client.post_form(f"{url}/gap/visibility", {"action": "restore"}, page=url)
    assert response.status_code == 302
    db.session.refresh(spammy)
    assert spammy.excluded_by is None and spammy.restored
