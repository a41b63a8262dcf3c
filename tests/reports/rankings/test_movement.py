"""The change after placement, from a page's series: pure arithmetic on dated points."""

from __future__ import annotations

from datetime import date, timedelta

from crm.reports.rankings.movement import PageMovement, Point, changes_after

PLACED = date(2026, 6, 1)


def day(offset: int) -> date:
    return PLACED + timedelta(days=offset)


def test_each_horizon_compares_the_nearest_point_with_the_last_one_before() -> None:
    points = [Point(day(-40), 20.0, 5), Point(day(-3), 18.0, 10), Point(day(28), 12.5, 40),
              Point(day(58), 9.0, 80), Point(day(75), 8.0, 90)]  # fmt: skip
    found = changes_after(points, PLACED)
    assert found[30] is not None and (found[30].position, found[30].clicks) == (-5.5, 30)
    assert found[60] is not None and found[60].after.day == day(58)
    assert found[90] is not None and found[90].after.day == day(75)  # 15 days off: still near
    assert found[30].before.day == day(-3)


def test_no_point_before_or_near_a_horizon_gives_no_change() -> None:
    assert changes_after([Point(day(10), 5.0, 1)], PLACED) == {30: None, 60: None, 90: None}
    points = [Point(day(-1), 10.0, None), Point(day(30), None, 4)]
    change = changes_after(points, PLACED)[30]
    assert change is not None and change.position is None and change.clicks is None
    assert changes_after(points, PLACED)[90] is None


def test_a_page_without_links_has_no_change() -> None:
    page = PageMovement(1, "https://a.example/", "A", [Point(day(0), 3.0, 1)], [])
    assert page.changes() == {30: None, 60: None, 90: None}
    assert page.latest == Point(day(0), 3.0, 1)
