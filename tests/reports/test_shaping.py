"""Report shaping: rates, Wilson intervals, labels, order, JSON and CSV cells, from plain values."""

from __future__ import annotations

import pytest

from crm.reports.shaping import (
    GroupCounts,
    GroupTimes,
    csv_cells,
    csv_header,
    row_json,
    shape_rows,
    table_cells,
    wilson,
)


def counts(keys: tuple[object, ...], contacted: int = 40, prospects: int = 40, replied: int = 9,
           positive: int = 5, placed: int = 3, after: int = 3) -> GroupCounts:  # fmt: skip
    return GroupCounts(keys, contacted, prospects, replied, positive, placed, after,
                       times=GroupTimes(17.5, 19.25, 3))  # fmt: skip


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (9, 40, 0.1232, 0.3750), (1, 1, 0.2065, 1.0)],
)
def test_wilson_interval_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    found = wilson(k, n)
    assert found is not None
    assert found == pytest.approx((low, high), abs=5e-5)


def test_no_trials_has_no_interval() -> None:
    assert wilson(0, 0) is None


def test_contract_row_shape() -> None:
    [row] = shape_rows(["angle"], [counts(("resource-replacement",))],
                       {"angle": {"resource-replacement": "resource replacement"}})  # fmt: skip
    data = row_json(row)
    assert data["group"] == "resource replacement"
    assert data["angle"] == "resource replacement"
    assert (data["contacted"], data["replied"], data["positive"], data["placed"]) == (40, 9, 5, 3)
    assert (data["reply_rate"], data["positive_reply_rate"], data["placement_rate"]) == (
        0.225, 0.125, 0.075,
    )  # fmt: skip
    assert data["reply_rate_ci"] == [0.1232, 0.375]
    assert data["median_days_to_placement"] == 17.5
    assert data["small_sample"] is False


def test_small_cells_are_marked() -> None:
    [row] = shape_rows(
        ["tier"], [counts((1,), contacted=3, prospects=3, replied=1, positive=0, placed=0, after=0)]
    )
    assert row.small
    assert table_cells(row)[-1] == "small"


def test_rows_sort_naturally_with_missing_keys_last() -> None:
    rows = shape_rows(
        ["tier", "authority"],
        [counts((None, "70+")), counts((2, "0–29")), counts((1, "70+")), counts((1, "30–49"))],
    )
    assert [r.label for r in rows] == [
        "tier 1 × 30–49", "tier 1 × 70+", "tier 2 × 0–29", "(no tier) × 70+",
    ]  # fmt: skip


def test_placement_rate_counts_only_links_won_after_email() -> None:
    [row] = shape_rows(["angle"], [counts(("x",), prospects=4, placed=3, after=2)])
    data = row_json(row)
    assert (data["placed"], data["placed_without_email"], data["placement_rate"]) == (3, 1, 0.5)
    assert "3 (1 without email)" in table_cells(row)


def test_csv_cells_line_up_with_the_header() -> None:
    [row] = shape_rows(["angle", "week"], [counts(("x", "2026-10-05"))])
    assert len(csv_cells(row)) == len(csv_header(["angle", "week"]))
    assert csv_cells(row)[:2] == ["x", "2026-10-05"]
