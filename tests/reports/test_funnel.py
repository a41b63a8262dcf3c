"""The funnel on the hand-built dataset: nested stages, conversions, links won without email."""

from __future__ import annotations

from typing import Any

import pytest

from crm.reports.funnel import FunnelCounts, add_up, funnel_by_campaign
from crm.reports.params import ReportScope
from tests.reports.dataset import build_dataset

pytestmark = pytest.mark.postgres


def test_funnel_counts_each_prospect_once_per_stage(db: Any) -> None:
    data = build_dataset()
    [row] = funnel_by_campaign(ReportScope((data.campaign.id,)))
    # P1-P6; P4 counts as qualified because it won; P5 was never emailed.
    stages = [(name, count) for name, count, _ in row.steps()]
    assert stages == [
        ("prospects", 6), ("qualified", 5), ("contacted", 4), ("replied", 3), ("positive", 2),
        ("won", 2),
    ]  # fmt: skip
    assert row.won_without_email == 1
    conversions = {name: rate for name, _, rate in row.steps()}
    assert conversions["prospects"] is None
    assert conversions["replied"] is not None and conversions["replied"].value == 0.75


def test_overall_funnel_adds_campaigns() -> None:
    a = FunnelCounts(1, "A", 10, 8, 6, 3, 2, 1, 1)
    b = FunnelCounts(2, "B", 5, 4, 2, 1, 1, 1, 0)
    total = add_up([a, b])
    assert (total.prospects, total.contacted, total.won, total.won_without_email) == (15, 8, 2, 1)
    assert total.campaign == "all campaigns"
