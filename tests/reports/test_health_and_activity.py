"""Link health and weekly activity on the hand-built dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm.reports.activity import weekly_activity
from crm.reports.health import link_health
from crm.reports.params import ReportScope
from tests.reports.dataset import build_dataset

pytestmark = pytest.mark.postgres


def test_link_health_lists_every_state_and_anchor_type(db: Any) -> None:
    data = build_dataset()
    health = link_health(ReportScope((data.campaign.id,)))
    assert health.states == {"live": 0, "inconclusive": 0, "lost": 0, "unchecked": 3}
    assert health.anchors["partial"] == 3
    assert set(health.anchors) == {"exact", "partial", "branded", "naked URL", "generic", "image"}
    ranged = link_health(ReportScope((data.campaign.id,), date(2026, 11, 1), date(2026, 11, 30)))
    assert ranged.total == 1


def test_weekly_activity_counts_events_in_their_own_week(db: Any) -> None:
    data = build_dataset()
    scope = ReportScope((data.campaign.id,), date(2026, 10, 1), date(2026, 11, 15))
    weeks = {w.monday.isoformat(): (w.sent, w.replies, w.placed) for w in
             weekly_activity(scope, date(2026, 12, 1))}  # fmt: skip
    assert weeks["2026-09-28"] == (0, 0, 0)
    assert weeks["2026-10-05"] == (5, 2, 0)
    assert weeks["2026-10-12"] == (3, 0, 0)
    assert weeks["2026-10-19"] == (1, 1, 2)
    assert weeks["2026-11-09"] == (0, 0, 1)
    assert list(weeks)[-1] == "2026-11-09"
