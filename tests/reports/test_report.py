"""Each DESIGN §7 definition, counted on the hand-built dataset (tests/reports/dataset.py).

The same answers on SQLite and PostgreSQL: every test here runs on both.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm.reports.params import ReportScope
from crm.reports.report import build_report, build_total
from crm.reports.shaping import row_json
from tests.reports.dataset import (
    BY_ANGLE,
    BY_AUTHORITY,
    BY_MAILBOX,
    BY_SPECIALIST,
    BY_STEP,
    BY_TIER,
    BY_WEEK,
    IN_RANGE,
    TOTAL,
    build_dataset,
    counts_of,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def data(db: Any) -> Any:
    return build_dataset()


def _by(dim: str, scope: ReportScope) -> dict[Any, tuple[Any, ...]]:
    key = dim.replace("-", "_")
    return {row[key]: counts_of(row) for row in map(row_json, build_report((dim,), scope))}


def test_totals_follow_each_definition(data: Any) -> None:
    total = row_json(build_total(ReportScope((data.campaign.id,))))
    assert counts_of(total) == TOTAL
    assert total["reply_rate"] == 0.6
    assert total["positive_reply_rate"] == 0.4
    assert total["placement_rate"] == 0.5
    assert total["placed_without_email"] == 1


@pytest.mark.parametrize(
    ("dim", "expected"),
    [
        ("angle", BY_ANGLE),
        ("tier", BY_TIER),
        ("step", BY_STEP),
        ("mailbox", BY_MAILBOX),
        ("week", BY_WEEK),
        ("authority", BY_AUTHORITY),
        ("specialist", BY_SPECIALIST),
    ],
)
def test_each_breakdown_counts_the_written_answers(
    data: Any, dim: str, expected: dict[Any, Any]
) -> None:
    assert _by(dim, ReportScope((data.campaign.id,))) == expected


def test_a_reply_to_a_follow_up_counts_for_that_step(data: Any) -> None:
    rows = {r["step"]: r for r in map(row_json, build_report(("step",), ReportScope()))}
    assert rows[2]["replied"] == 1
    assert rows[2]["reply_rate"] == round(1 / 3, 4)


def test_a_won_link_without_a_touch_is_placed_but_outside_the_rate(data: Any) -> None:
    broken = _by("angle", ReportScope((data.campaign.id,)))["broken link"]
    assert broken[4:6] == (1, 0)  # placed 1, of which after email 0
    row = next(
        r
        for r in map(row_json, build_report(("angle",), ReportScope()))
        if r["angle"] == "broken link"
    )
    assert row["placement_rate"] == 0.0
    assert row["placement_rate_ci"][0] == 0.0


def test_date_range_picks_a_cohort_by_first_send(data: Any) -> None:
    scope = ReportScope((data.campaign.id,), date(2026, 10, 12), date(2026, 10, 31))
    assert counts_of(row_json(build_total(scope))) == IN_RANGE


def test_specialist_filter_keeps_only_their_prospects(data: Any) -> None:
    scope = ReportScope((data.campaign.id,), specialist_id=data.morgan.id)
    assert counts_of(row_json(build_total(scope))) == BY_SPECIALIST["Morgan Manager"]


def test_angle_by_tier_rows_carry_both_keys(data: Any) -> None:
    rows = [row_json(r) for r in build_report(("angle", "tier"), ReportScope((data.campaign.id,)))]
    assert [(r["group"], r["angle"], r["tier"]) for r in rows] == [
        ("broken link × tier 2", "broken link", 2),
        ("resource replacement × tier 1", "resource replacement", 1),
    ]
    assert counts_of(rows[1]) == BY_ANGLE["resource replacement"]


def test_link_type_and_target_breakdowns_use_readable_keys(data: Any) -> None:
    types = _by("link-type", ReportScope((data.campaign.id,)))
    assert set(types) == {"resource page", "roundup/listicle", "editorial mention", None}
    assert types["editorial mention"][4] == 1  # P4's link, won without email


def test_an_empty_scope_is_all_zeros_without_rates(db: Any) -> None:
    total = row_json(build_total(ReportScope((12345,))))
    assert counts_of(total) == (0, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert total["reply_rate"] is None
    assert total["reply_rate_ci"] is None
    assert build_report(("angle",), ReportScope((12345,))) == []


@pytest.mark.parametrize("dims", [(), ("angle",), ("tier",), ("angle", "tier"), ("week",),
                                  ("mailbox",), ("specialist",), ("step",)])  # fmt: skip
def test_facts_stored_once_give_the_same_rows(data: Any, dims: tuple[str, ...]) -> None:
    from crm.reports.stored import stored_facts

    scope = ReportScope((data.campaign.id,))
    with stored_facts(scope) as source:
        stored = [row_json(r) for r in build_report(dims, scope, source)]
    assert stored == [row_json(r) for r in build_report(dims, scope)]
