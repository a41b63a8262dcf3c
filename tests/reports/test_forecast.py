"""The forecast's arithmetic on plain values: fallbacks, intervals, the quarter's plan."""

from __future__ import annotations

from datetime import date

import pytest

from crm.reports.forecast import (
    HistoryCell,
    PipelineCell,
    forecast,
    plan_quarter,
    quarter_of,
    tier_rates,
)

HISTORY = [
    HistoryCell(1, "rr", 1, 40, 10),  # big enough on its own: 25%
    HistoryCell(1, "rr", 2, 5, 0),  # small: borrows rr over all tiers (10 of 45)
    HistoryCell(1, "bl", 2, 3, 1),  # small, and bl is small: borrows the campaign (11 of 48)
]


def test_each_cell_uses_the_finest_history_that_is_big_enough() -> None:
    outlook = forecast(
        HISTORY,
        [PipelineCell(1, "rr", 1, 8), PipelineCell(1, "rr", 2, 9), PipelineCell(1, "bl", 2, 48)],
    )
    assert [line.basis for line in outlook.lines] == ["angle × tier", "angle", "campaign"]
    assert outlook.lines[0].expected == pytest.approx(2.0)
    assert outlook.lines[1].expected == pytest.approx(9 * 10 / 45)
    assert outlook.lines[2].expected == pytest.approx(11)
    assert outlook.in_sequence == 65
    assert outlook.low < outlook.expected < outlook.high


def test_a_campaign_without_history_forecasts_nothing_and_says_so() -> None:
    outlook = forecast(HISTORY, [PipelineCell(2, "rr", 1, 7)])
    assert outlook.expected == 0
    assert outlook.without_history == 7
    assert outlook.lines[0].basis == "no history"


def test_quarter_plan_divides_what_is_missing_by_each_tier_rate() -> None:
    outlook = forecast(HISTORY, [PipelineCell(1, "rr", 1, 8)])  # 2 expected
    rates = tier_rates(HISTORY)
    plan = plan_quarter(10, 3, outlook, rates, date(2026, 11, 20))
    assert plan.missing == pytest.approx(5)
    assert plan.more_by_tier == {1: 20, 2: 40, 3: None}  # 25%, 1 in 8, tier 3 never placed
    assert (plan.quarter_start, plan.quarter_end, plan.days_left) == (
        date(2026, 10, 1), date(2026, 12, 31), 41,
    )  # fmt: skip


def test_a_goal_already_met_needs_no_more_prospects() -> None:
    plan = plan_quarter(2, 3, forecast([], []), tier_rates(HISTORY), date(2026, 2, 1))
    assert plan.missing == 0
    assert plan.more_by_tier[1] == 0
    assert quarter_of(date(2026, 2, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
