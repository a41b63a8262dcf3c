"""compose's Date header is exactly email.utils.format_datetime's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.mail.compose import date_header

_ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(0), "zero"),
        ZoneInfo("UTC"),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-9, minutes=-30)),
        timezone(timedelta(seconds=-3725)),
        ZoneInfo("Europe/Berlin"),
        ZoneInfo("America/St_Johns"),
        ZoneInfo("Pacific/Kiritimati"),
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)), _ZONES)
def test_same_as_format_datetime(naive: datetime, zone: timezone | ZoneInfo) -> None:
    date = naive.replace(tzinfo=zone)
    assert date_header(date) == format_datetime(date)


def test_examples() -> None:
    assert date_header(datetime(2026, 11, 18, 15, 0, 7, 123, tzinfo=UTC)) == (
        "Wed, 18 Nov 2026 15:00:07 +0000"
    )
    assert (
        date_header(datetime(987, 2, 3, 4, 5, 6, tzinfo=UTC)) == "Sat, 03 Feb 0987 04:05:06 +0000"
    )
