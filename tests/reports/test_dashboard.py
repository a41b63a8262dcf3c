"""The dashboard's panels from one scope, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm.reports.dashboard import build_dashboard
from crm.reports.params import ReportScope
from crm.reports.shaping import row_json
from tests.reports.dataset import BY_ANGLE, IN_RANGE, TOTAL, build_dataset, counts_of

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("dated", [False, True])
def test_every_panel_counts_the_written_answers(db: Any, dated: bool) -> None:
    data = build_dataset()
    scope = ReportScope((data.campaign.id,))
    if dated:
        scope = ReportScope((data.campaign.id,), date(2026, 10, 12), date(2026, 10, 31))
    board = build_dashboard(scope, date(2026, 11, 20), 10)
    assert counts_of(row_json(board.total)) == (IN_RANGE if dated else TOTAL)
    if not dated:
        angles = {r.groups[0].label: counts_of(row_json(r)) for r in board.by_angle}
        assert angles == BY_ANGLE
        assert board.funnel.contacted == 4 and board.funnel.won == 2
        assert board.outlook.placed_this_quarter == 3
        assert board.health.total == 3
