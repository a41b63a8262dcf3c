"""When each touch of an enrollment is due (DESIGN §1.6, §5).

Touches are planned at enrollment: step 1 at the first window slot from
``now``, step n at step 1 plus its day offset (local days in the contact's
timezone, so Day 4 keeps the time of day across a DST change), each moved
into the sending window. When touches run late (a paused enrollment, a full
daily cap, a mailbox outage), ``replan_touches`` pushes the unsent ones so
they keep their order and spacing: step n+1 is never due before step n was
sent (or is due) plus the gap between their offsets.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from crm.outreach.windows import SendingWindow, add_local_days


@dataclass(frozen=True)
class PlannedTouch:
    """A step number (1-based) and when it is due."""

    step: int
    due_at: datetime


@dataclass(frozen=True)
class TouchTiming:
    """A touch as planned so far: its step, due time and send time if sent."""

    step: int
    due_at: datetime
    sent_at: datetime | None = None


def step_gaps(offsets_days: Sequence[int]) -> list[int]:
    """Return the days between consecutive steps, checking the offsets make a sequence."""
    if not offsets_days:
        raise ValueError("a sequence needs at least one step")
    if offsets_days[0] != 0:
        raise ValueError("the first step of a sequence is on day 1 (offset 0)")
    gaps = [later - earlier for earlier, later in itertools.pairwise(offsets_days)]
    if any(gap <= 0 for gap in gaps):
        raise ValueError("step offsets must increase: each follow-up comes after the one before")
    return gaps


def sequence_day(config: Mapping[str, Any]) -> timedelta | None:
    """Read SEQUENCE_DAY_SECONDS: how long a sequence day lasts, None for a calendar day.

    Only the demo sets it (a day of one minute), so its cadence shows in minutes.
    """
    seconds = config.get("SEQUENCE_DAY_SECONDS")
    return timedelta(seconds=int(seconds)) if seconds else None


def add_days(moment: datetime, days: int, tz: tzinfo, day: timedelta | None = None) -> datetime:
    """Return moment plus sequence days: local calendar days, or `day` each when given."""
    return add_local_days(moment, days, tz) if day is None else moment + days * day


def _slot(moment: datetime, window: SendingWindow | None, tz: tzinfo) -> datetime:
    return window.next_slot(moment, tz) if window is not None else moment.astimezone(UTC)


def plan_touches(
    now: datetime,
    offsets_days: Sequence[int],
    tz: tzinfo,
    window: SendingWindow | None = None,
    day: timedelta | None = None,
) -> list[PlannedTouch]:
    """Plan every step of a new enrollment from ``now``, in the contact's timezone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    step_gaps(offsets_days)
    first = _slot(now, window, tz)
    planned = [PlannedTouch(1, first)]
    for step, offset in enumerate(offsets_days[1:], start=2):
        planned.append(PlannedTouch(step, _slot(add_days(first, offset, tz, day), window, tz)))
    return planned


def step_offsets(day_offsets: Sequence[int], count: int) -> list[int]:
    """Return a sequence's day offsets from its first step (0), at least ``count`` long.

    A step removed from the sequence after enrollment keeps a gap of a day.
    """
    offsets = [o - day_offsets[0] for o in day_offsets] if day_offsets else [0]
    while len(offsets) < count:
        offsets.append(offsets[-1] + 1)
    return offsets


def replan_touches(
    touches: Sequence[TouchTiming],
    offsets_days: Sequence[int],
    now: datetime,
    tz: tzinfo,
    window: SendingWindow | None = None,
    day: timedelta | None = None,
) -> list[PlannedTouch]:
    """Return new due times for the unsent touches, in step order.

    A touch is never moved earlier than it was planned, never before ``now``,
    and never before the step before it was sent (or is now due) plus the gap
    between their offsets. Sent touches are left out of the result.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    step_gaps(offsets_days)
    ordered = sorted(touches, key=lambda t: t.step)
    steps = [t.step for t in ordered]
    if len(set(steps)) != len(steps) or any(s < 1 or s > len(offsets_days) for s in steps):
        raise ValueError("touches must have distinct steps within the sequence")
    result: list[PlannedTouch] = []
    previous: tuple[int, datetime] | None = None  # (step, sent or due at)
    for touch in ordered:
        if touch.sent_at is not None:
            previous = (touch.step, touch.sent_at)
            continue
        earliest = max(touch.due_at, now)
        if previous is not None:
            gap = offsets_days[touch.step - 1] - offsets_days[previous[0] - 1]
            earliest = max(earliest, add_days(previous[1], gap, tz, day))
        due = _slot(earliest, window, tz)
        result.append(PlannedTouch(touch.step, due))
        previous = (touch.step, due)
    return result
