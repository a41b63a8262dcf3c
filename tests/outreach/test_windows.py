"""Sending windows in the contact's timezone, local days, spacing and jitter."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.outreach.windows import (
    SendingWindow,
    add_local_days,
    draw_jitter,
    first_instant_at,
    format_days,
    local_day_bounds,
    parse_days,
    parse_timezone,
    resolve_timezone,
    spacing_ready_at,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WORKDAY = SendingWindow.parse("09:00-17:00", "mon,tue,wed,thu,fri")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_parse_window_and_days() -> None:
    window = SendingWindow.parse("8:30-16:45", "mon-wed,fri")
    assert (window.start, window.end) == (time(8, 30), time(16, 45))
    assert window.days == frozenset({0, 1, 2, 4})
    assert str(window) == "08:30-16:45 mon,tue,wed,fri"
    assert format_days(parse_days("Sunday,monday")) == "mon,sun"


@pytest.mark.parametrize(
    ("window", "days"),
    [("17:00-09:00", "mon"), ("9-17", "mon"), ("25:00-26:00", "mon"), ("09:00-17:00", ""),
     ("09:00-17:00", "funday"), ("09:00-17:00", "fri-mon")],
)  # fmt: skip
def test_parse_refuses_bad_windows(window: str, days: str) -> None:
    with pytest.raises(ValueError):
        SendingWindow.parse(window, days)


def test_window_until_midnight_is_accepted() -> None:
    assert SendingWindow.parse("18:00-24:00", "sat").end == time(23, 59)


def test_contact_timezone_falls_back_to_the_mailbox_timezone() -> None:
    assert resolve_timezone("America/New_York", "Europe/London") == NY
    assert resolve_timezone(None, "Europe/London") == LONDON
    assert resolve_timezone("", "Europe/London") == LONDON
    assert resolve_timezone("Mars/Olympus_Mons", "Europe/London") == LONDON
    with pytest.raises(ValueError, match="unknown timezone"):
        parse_timezone("Mars/Olympus_Mons")


def test_inside_the_window_is_read_on_the_contacts_wall_clock() -> None:
    # 14:00 UTC on a Wednesday in November is 09:00 in New York, 14:00 in London.
    moment = utc(2026, 11, 18, 14, 0)
    assert WORKDAY.contains(moment, NY)
    assert not WORKDAY.contains(utc(2026, 11, 18, 13, 59), NY)
    assert WORKDAY.contains(utc(2026, 11, 18, 13, 59), LONDON)


def test_next_slot_is_now_when_inside_the_window() -> None:
    moment = utc(2026, 11, 18, 15, 30, 12)
    assert WORKDAY.next_slot(moment, NY) == moment


def test_a_touch_that_missed_its_window_moves_to_the_next_one() -> None:
    # Friday 17:30 New York -> Monday 09:00 New York.
    friday_evening = datetime(2026, 11, 20, 17, 30, tzinfo=NY)
    slot = WORKDAY.next_slot(friday_evening, NY)
    assert slot == datetime(2026, 11, 23, 9, 0, tzinfo=NY)
    assert slot.tzinfo is UTC


def test_next_slot_before_opening_is_the_opening_the_same_day() -> None:
    early = datetime(2026, 11, 18, 6, 15, tzinfo=NY)
    assert WORKDAY.next_slot(early, NY) == datetime(2026, 11, 18, 9, 0, tzinfo=NY)


def test_window_opening_inside_a_spring_forward_gap_opens_at_the_transition() -> None:
    night = SendingWindow.parse("02:30-05:00", "mon-sun")
    # 2026-03-08: New York clocks jump from 02:00 to 03:00; 02:30 does not exist.
    slot = night.next_slot(utc(2026, 3, 8, 5, 0), NY)
    assert slot == utc(2026, 3, 8, 7, 0)  # 03:00 EDT, the first instant after 02:30
    assert slot.astimezone(NY).hour == 3


def test_window_opening_in_a_fall_back_overlap_opens_at_its_first_occurrence() -> None:
    night = SendingWindow.parse("01:30-04:00", "mon-sun")
    slot = night.next_slot(utc(2026, 11, 1, 4, 0), NY)  # 00:00 EDT on the fall-back night
    assert slot == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST an hour later


def test_first_instant_at_handles_a_skipped_calendar_day() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 did not happen in Samoa
    assert first_instant_at(date(2011, 12, 30), time(9), apia).astimezone(apia).date() == date(
        2011, 12, 31
    )
    slot = WORKDAY.next_slot(datetime(2011, 12, 29, 18, 0, tzinfo=apia), apia)
    assert slot.astimezone(apia) == datetime(2012, 1, 2, 9, 0, tzinfo=apia)  # Sat, Sun skipped


def test_local_day_bounds_of_a_dst_day_are_23_or_25_hours() -> None:
    start, end = local_day_bounds(utc(2026, 3, 8, 12), NY)
    assert (start, end - start) == (utc(2026, 3, 8, 5), timedelta(hours=23))
    start, end = local_day_bounds(utc(2026, 11, 1, 12), NY)
    assert (start, end - start) == (utc(2026, 11, 1, 4), timedelta(hours=25))


def test_add_local_days_keeps_the_wall_clock_across_dst() -> None:
    before = datetime(2026, 3, 6, 10, 0, tzinfo=NY)
    assert add_local_days(before, 3, NY).astimezone(NY) == datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    assert add_local_days(before, 3, NY) - before == timedelta(days=3, hours=-1)


def test_spacing_and_jitter() -> None:
    last = utc(2026, 11, 18, 14, 0)
    assert spacing_ready_at(None, timedelta(minutes=2)) is None
    assert spacing_ready_at(last, timedelta(0)) is None
    assert spacing_ready_at(last, timedelta(minutes=2), timedelta(seconds=7)) == utc(
        2026, 11, 18, 14, 2, 7
    )
    jitters = [draw_jitter(timedelta(seconds=30), random.Random(7)) for _ in range(3)]
    assert jitters[0] == jitters[1] == jitters[2]  # same seed, same jitter: tests can rely on it
    rng = random.Random(1)
    drawn = [draw_jitter(timedelta(seconds=30), rng) for _ in range(200)]
    assert all(timedelta(0) <= j <= timedelta(seconds=30) for j in drawn)
    assert len(set(drawn)) > 100
    assert draw_jitter(timedelta(0), rng) == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WORKDAY.next_slot(datetime(2026, 1, 1, 9), NY)


ZONES = [
    "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia",
    "Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Chatham", "UTC", "America/St_Johns",
]  # fmt: skip
QUARTER = timedelta(minutes=15)


@st.composite
def windows(draw: st.DrawFn) -> SendingWindow:
    start = draw(st.integers(0, 95))
    end = draw(st.integers(start + 1, 96))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    as_time = lambda q: time(23, 59) if q == 96 else time(q // 4, q % 4 * 15)  # noqa: E731
    return SendingWindow(as_time(start), as_time(end), days)


@settings(max_examples=150, deadline=None)
@given(
    window=windows(),
    zone=st.sampled_from(ZONES),
    earliest=st.datetimes(
        min_value=datetime(2011, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_next_slot_is_the_first_instant_inside_the_window(
    window: SendingWindow, zone: str, earliest: datetime
) -> None:
    tz = ZoneInfo(zone)
    slot = window.next_slot(earliest, tz)
    assert slot >= earliest
    assert window.contains(slot, tz)
    if slot != earliest:
        assert not window.contains(earliest, tz)
    # No quarter hour between earliest and the slot was inside the window
    # (every zone here changes offset on quarter hours).
    probe = earliest.replace(minute=earliest.minute // 15 * 15, second=0, microsecond=0) + QUARTER
    while probe < slot:
        assert not window.contains(probe, tz), f"{probe} was open before {slot}"
        probe += QUARTER
