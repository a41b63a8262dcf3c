"""Planning an enrollment's touches and re-planning late follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.outreach.plan import (
    PlannedTouch,
    TouchTiming,
    add_days,
    plan_touches,
    replan_touches,
    step_gaps,
)
from crm.outreach.windows import SendingWindow, add_local_days

NY = ZoneInfo("America/New_York")
WORKDAY = SendingWindow.parse("09:00-17:00", "mon-fri")
# Day 1, 4, 9 and 14: the offsets of the built-in sequences.
DEFAULT_STEP_OFFSETS_DAYS = (0, 3, 8, 13)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_plan_without_a_window_is_day_1_4_9_14_from_now() -> None:
    now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    planned = plan_touches(now, DEFAULT_STEP_OFFSETS_DAYS, UTC)
    assert planned == [
        PlannedTouch(1, now),
        PlannedTouch(2, now + timedelta(days=3)),
        PlannedTouch(3, now + timedelta(days=8)),
        PlannedTouch(4, now + timedelta(days=13)),
    ]


def test_plan_moves_each_touch_into_the_window_in_the_contacts_timezone() -> None:
    # Enrolled Thursday 2026-11-19 at 20:00 New York: after the window closed.
    planned = plan_touches(ny(2026, 11, 19, 20, 0), DEFAULT_STEP_OFFSETS_DAYS, NY, WORKDAY)
    local = [p.due_at.astimezone(NY) for p in planned]
    assert local[0] == ny(2026, 11, 20, 9, 0)  # Friday 09:00
    assert local[1] == ny(2026, 11, 23, 9, 0)  # Day 4 is Monday
    assert local[2] == ny(2026, 11, 30, 9, 0)  # Day 9 is Saturday -> Monday
    assert local[3] == ny(2026, 12, 3, 9, 0)  # Day 14 is Thursday
    assert all(p.due_at.tzinfo is UTC for p in planned)


def test_plan_keeps_the_local_time_of_day_across_a_dst_change() -> None:
    planned = plan_touches(ny(2026, 3, 3, 10, 30), DEFAULT_STEP_OFFSETS_DAYS, NY, WORKDAY)
    assert [p.due_at.astimezone(NY).time().isoformat() for p in planned] == ["10:30:00"] * 4


def test_replan_after_a_pause_keeps_order_and_spacing() -> None:
    planned = plan_touches(ny(2026, 11, 2, 10, 0), DEFAULT_STEP_OFFSETS_DAYS, NY)
    sent_1 = planned[0].due_at
    now = ny(2026, 11, 20, 12, 0)  # resumed long after steps 2-4 were due
    timings = [TouchTiming(1, planned[0].due_at, sent_1)] + [
        TouchTiming(p.step, p.due_at) for p in planned[1:]
    ]
    new = replan_touches(timings, DEFAULT_STEP_OFFSETS_DAYS, now, NY)
    assert [p.step for p in new] == [2, 3, 4]
    assert new[0].due_at == now
    assert new[1].due_at == add_local_days(now, 5, NY)
    assert new[2].due_at == add_local_days(now, 10, NY)


def test_replan_after_a_late_send_pushes_the_next_step_by_its_gap() -> None:
    planned = plan_touches(ny(2026, 11, 2, 10, 0), DEFAULT_STEP_OFFSETS_DAYS, NY)
    sent_2_late = planned[1].due_at + timedelta(days=2)
    timings = [
        TouchTiming(1, planned[0].due_at, planned[0].due_at),
        TouchTiming(2, planned[1].due_at, sent_2_late),
        TouchTiming(3, planned[2].due_at),
        TouchTiming(4, planned[3].due_at),
    ]
    new = replan_touches(timings, DEFAULT_STEP_OFFSETS_DAYS, sent_2_late, NY)
    assert new[0] == PlannedTouch(3, add_local_days(sent_2_late, 5, NY))
    assert new[1] == PlannedTouch(4, add_local_days(sent_2_late, 10, NY))


def test_replan_never_moves_a_touch_earlier() -> None:
    planned = plan_touches(ny(2026, 11, 2, 10, 0), DEFAULT_STEP_OFFSETS_DAYS, NY)
    timings = [TouchTiming(p.step, p.due_at) for p in planned]
    assert replan_touches(timings, DEFAULT_STEP_OFFSETS_DAYS, ny(2026, 11, 1), NY) == planned


def test_replan_skips_a_missing_step_using_the_offsets_between_present_ones() -> None:
    start = ny(2026, 11, 2, 10, 0)
    timings = [TouchTiming(1, start, start), TouchTiming(3, start)]
    new = replan_touches(timings, DEFAULT_STEP_OFFSETS_DAYS, start, NY)
    assert new == [PlannedTouch(3, add_local_days(start, 8, NY))]


def test_replan_refuses_duplicate_or_unknown_steps() -> None:
    now = ny(2026, 11, 2, 10, 0)
    with pytest.raises(ValueError):
        replan_touches([TouchTiming(1, now), TouchTiming(1, now)], (0, 3), now, NY)
    with pytest.raises(ValueError):
        replan_touches([TouchTiming(3, now)], (0, 3), now, NY)


def test_a_follow_up_is_not_before_the_previous_send_plus_its_gap_in_local_days() -> None:
    sent = ny(2026, 3, 6, 10, 0)
    assert add_days(sent, 3, NY).astimezone(NY) == ny(2026, 3, 9, 10, 0)


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    delays=st.lists(st.integers(0, 20 * 24), min_size=4, max_size=4),
    now_shift=st.integers(0, 40 * 24),
)
def test_replanned_follow_ups_are_in_order_in_window_and_spaced_by_their_gaps(
    start: datetime, delays: list[int], now_shift: int
) -> None:
    """Whatever ran late, every unsent step is due after the one before plus its gap."""
    begin = start.replace(tzinfo=NY)
    planned = plan_touches(begin, DEFAULT_STEP_OFFSETS_DAYS, NY, WORKDAY)
    # Steps 1..k were sent late by random delays; the rest are waiting.
    sent_count = delays[0] % 4
    timings: list[TouchTiming] = []
    last_sent = None
    for p, delay in zip(planned, delays, strict=True):
        if p.step <= sent_count:
            sent = max(p.due_at, last_sent or p.due_at) + timedelta(hours=delay)
            timings.append(TouchTiming(p.step, p.due_at, sent))
            last_sent = sent
        else:
            timings.append(TouchTiming(p.step, p.due_at))
    now = (last_sent or begin) + timedelta(hours=now_shift)
    new = replan_touches(timings, DEFAULT_STEP_OFFSETS_DAYS, now, NY, WORKDAY)
    assert [p.step for p in new] == list(range(sent_count + 1, 5))
    previous = (sent_count, last_sent) if last_sent else None
    for touch in new:
        assert touch.due_at >= now
        assert WORKDAY.contains(touch.due_at, NY)
        if previous is not None:
            gap = (
                DEFAULT_STEP_OFFSETS_DAYS[touch.step - 1]
                - DEFAULT_STEP_OFFSETS_DAYS[previous[0] - 1]
            )
            assert touch.due_at >= add_local_days(previous[1], gap, NY)
        previous = (touch.step, touch.due_at)


def test_a_sequence_day_can_last_a_minute_for_the_demo() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from crm.outreach.plan import add_days, plan_touches, sequence_day

    minute = sequence_day({"SEQUENCE_DAY_SECONDS": "60"})
    assert minute == timedelta(minutes=1)
    assert sequence_day({}) is None
    start = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    planned = plan_touches(start, [0, 3, 8, 13], ZoneInfo("Europe/Berlin"), day=minute)
    assert [p.due_at - start for p in planned] == [timedelta(minutes=m) for m in (0, 3, 8, 13)]
    assert add_days(start, 4, ZoneInfo("UTC"), minute) == start + timedelta(minutes=4)


def test_default_offsets_have_gaps_of_3_5_5_days() -> None:
    assert step_gaps(DEFAULT_STEP_OFFSETS_DAYS) == [3, 5, 5]


@pytest.mark.parametrize("offsets", [(), (1, 3), (0, 3, 3), (0, 5, 2)])
def test_step_gaps_refuses_sequences_that_do_not_start_on_day_1_or_do_not_increase(
    offsets: tuple[int, ...],
) -> None:
    with pytest.raises(ValueError):
        step_gaps(offsets)
