"""Big uploads run in a background thread; the page polls a progress fragment until done."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.gap.progress import ProgressReporter
from crm.models import GapImport, ImportState, Prospect

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "GAP_INLINE_MAX_BYTES": 0}


def test_a_big_import_runs_in_a_thread_and_the_page_polls_its_progress(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    token = client.csrf_token(f"/campaigns/{campaign.id}/gap/import")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in exports.values()]
    show = client.post(
        f"/campaigns/{campaign.id}/gap/import",
        data={"csrf_token": token, "files": files},
        content_type="multipart/form-data",
    ).headers["Location"]
    client.post_form(f"{show}/run", page=show)
    deadline = time.monotonic() + 30
    while True:
        fragment = client.get(f"{show}/progress", headers={"HX-Request": "true"})
        if fragment.headers.get("HX-Redirect"):
            break
        assert "<progress" in fragment.get_data(as_text=True)
        assert time.monotonic() < deadline, "the import never finished"
        time.sleep(0.1)
    assert fragment.headers["HX-Redirect"] == show.replace("http://localhost", "")
    db.session.expire_all()
    gap_import = db.session.scalar(select(GapImport))
    assert gap_import.state == ImportState.DONE, gap_import.error
    assert gap_import.bytes_done == gap_import.bytes_total > 0
    assert db.session.scalar(select(func.count()).select_from(Prospect)) == 12


def test_progress_is_committed_on_its_own_connection_as_bytes_are_read(
    db: Any, team: dict[str, Any]
) -> None:
    gap_import = GapImport(campaign_id=team["campaign"].id, state=ImportState.RUNNING)
    db.session.add(gap_import)
    db.session.commit()
    report = ProgressReporter(db.engine, gap_import.id)
    report(10, 100)
    report(20, 100)  # within half a second of the last: skipped
    db.session.expire_all()
    assert (gap_import.bytes_done, gap_import.bytes_total) == (10, 100)
    report(100, 100)  # the end is always written
    db.session.expire_all()
    assert gap_import.bytes_done == 100 and gap_import.progress_at is not None
