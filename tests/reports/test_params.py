"""Report parameters read from text: every mistake is one line naming the parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.core.errors import UserError
from crm.reports.params import ReportScope, check_range, parse_breakdowns, parse_day


def test_breakdowns_accept_commas_case_and_underscores() -> None:
    assert parse_breakdowns("Angle, link_type") == ("angle", "link-type")
    assert parse_breakdowns(["angle", "tier"]) == ("angle", "tier")
    assert parse_breakdowns("") == ()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("colour", "--by: unknown breakdown 'colour' (choose from angle, tier, authority"),
        ("angle,tier,step", "--by: at most 2 breakdowns, got 3"),
        ("tier,tier", "--by: 'tier' is named twice"),
    ],
)
def test_bad_breakdowns_name_the_parameter(raw: str, says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_breakdowns(raw)
    assert caught.value.message.startswith(says)
    assert caught.value.field == "by"
    assert "\n" not in caught.value.message


def test_days_are_iso_dates() -> None:
    assert parse_day("2026-10-05", "--from", "from") == date(2026, 10, 5)
    assert parse_day(" ", "--from", "from") is None
    with pytest.raises(UserError, match=r"^From: '5/10/2026' is not a date \(use YYYY-MM-DD\)$"):
        parse_day("5/10/2026", "From", "from")


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    check_range(date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(UserError, match=r"^--to: 2026-01-01 is before the start 2026-02-01$"):
        check_range(date(2026, 2, 1), date(2026, 1, 1))


def test_scope_range_includes_the_last_day() -> None:
    scope = ReportScope(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    assert scope.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert scope.end == datetime(2026, 11, 1, tzinfo=UTC)
