"""Import progress is committed on its own connection as bytes are read."""

from __future__ import annotations

from typing import Any

import pytest

from crm.gap.progress import ProgressReporter
from crm.models import GapImport, ImportState

pytestmark = pytest.mark.postgres


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
