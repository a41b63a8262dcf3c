"""The forecast's inputs from the database: finished history, open pipeline, links this quarter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm.reports.forecast import HistoryCell, PipelineCell, forecast
from crm.reports.params import ReportScope
from crm.reports.pipeline import history_cells, links_placed_between, pipeline_cells
from tests.reports.dataset import BL, RR, build_dataset

pytestmark = pytest.mark.postgres


def test_history_leaves_out_prospects_still_in_sequence(db: Any) -> None:
    data = build_dataset()
    scope = ReportScope((data.campaign.id,))
    cid = data.campaign.id
    # P2 still has an active enrollment (E2a): not finished, so not in the history yet.
    assert sorted(history_cells(scope), key=lambda h: str(h.angle)) == [
        HistoryCell(cid, BL, 2, 1, 0),
        HistoryCell(cid, RR, 1, 2, 2),
    ]
    # P2 (tier 1) and P5 (tier 3, nothing sent yet) are in sequence without a link.
    assert sorted(pipeline_cells(scope), key=lambda c: c.tier or 0) == [
        PipelineCell(cid, RR, 1, 1),
        PipelineCell(cid, RR, 3, 1),
    ]
    outlook = forecast(history_cells(scope), pipeline_cells(scope))
    assert outlook.expected == pytest.approx(2 * 2 / 3)  # the campaign's 2 of 3
    assert links_placed_between(scope, date(2026, 10, 1), date(2026, 12, 31)) == 3
    assert links_placed_between(scope, date(2026, 11, 1), date(2026, 12, 31)) == 1
