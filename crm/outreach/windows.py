"""Sending windows, local days and spacing, in a timezone (DESIGN §5).

A mailbox sends only inside its window (e.g. 09:00-17:00, Monday to Friday),
read in the contact's timezone when the contact has one, else in the
mailbox's. Its daily cap counts the mailbox's own local day. Everything here
is pure: aware UTC datetimes in, aware UTC datetimes out, wall-clock rules
evaluated with zoneinfo so DST changes neither skip nor double a window.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS: frozenset[int] = frozenset(range(5))

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def parse_timezone(name: str) -> ZoneInfo:
    """Return the IANA timezone called name, or raise ValueError naming it."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def resolve_timezone(contact_tz: str | None, mailbox_tz: str) -> ZoneInfo:
    """Return the contact's timezone, falling back to the mailbox's when unset or unknown."""
    if contact_tz and contact_tz.strip():
        try:
            return parse_timezone(contact_tz)
        except ValueError:
            pass
    return parse_timezone(mailbox_tz)


def parse_days(text: str) -> frozenset[int]:
    """Parse "mon,tue,wed" (or "mon-fri") into weekday numbers, Monday = 0."""
    days: set[int] = set()
    for raw in text.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _weekday(first), _weekday(last)
            if end < start:
                raise ValueError(f"day range {raw.strip()!r} runs backwards")
            days.update(range(start, end + 1))
        else:
            days.add(_weekday(part))
    if not days:
        raise ValueError("a sending window needs at least one day")
    return frozenset(days)


def _weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise ValueError(f"unknown day {text.strip()!r} (use mon, tue, wed, thu, fri, sat, sun)")
    return WEEKDAYS.index(key)


def format_days(days: frozenset[int]) -> str:
    """Return weekday numbers as "mon,tue,..." in week order."""
    return ",".join(WEEKDAYS[d] for d in sorted(days))


@dataclass(frozen=True)
class SendingWindow:
    """Local wall-clock hours [start, end) on the given weekdays (Monday = 0)."""

    start: time
    end: time
    days: frozenset[int] = WORKDAYS

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("a sending window must end after it starts on the same day")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("a sending window needs at least one day, numbered 0-6")

    @classmethod
    def parse(cls, window: str = "09:00-17:00", days: str = "mon,tue,wed,thu,fri") -> SendingWindow:
        """Build a window from "HH:MM-HH:MM" and "mon,tue,..." (the CLI's forms)."""
        match = _WINDOW_RE.match(window)
        if not match:
            raise ValueError(f"window {window!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2, m2 = 23, 59  # "until midnight"; end is exclusive so 23:59 is the closest time
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            raise ValueError(f"window {window!r} has an impossible time") from None
        return cls(start, end, parse_days(days))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {format_days(self.days)}"

    def contains(self, moment: datetime, tz: tzinfo) -> bool:
        """Say whether an instant falls inside the window on the local wall clock."""
        _require_aware(moment, "moment")
        local = moment.astimezone(tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_slot(self, earliest: datetime, tz: tzinfo) -> datetime:
        """Return the first instant at or after earliest (UTC) inside the window."""
        _require_aware(earliest, "earliest")
        earliest = earliest.astimezone(UTC)
        day = earliest.astimezone(tz).date()
        # Eight days always reach an allowed weekday; two more cover zones that
        # skipped a whole calendar day (Samoa, 2011-12-30).
        for _ in range(10):
            if day.weekday() in self.days:
                opens = first_instant_at(day, self.start, tz)
                closes = first_instant_at(day, self.end, tz)
                if opens.astimezone(tz).date() == day and earliest < closes:
                    return max(opens, earliest)
            day += timedelta(days=1)
        raise AssertionError("unreachable: a window with a weekday always has a next slot")


@lru_cache(maxsize=4096)  # the sender asks the same few days for every touch
def first_instant_at(day: date, wall: time, tz: tzinfo) -> datetime:
    """Return the first UTC instant whose local wall time on day is at or after wall.

    Handles the two DST cases: in a gap (02:30 on a spring-forward night does
    not exist) it is the transition itself, and in an overlap (01:30 happens
    twice on a fall-back night) it is the first of the two.
    """
    naive = datetime.combine(day, wall)
    candidate = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if candidate.astimezone(tz).replace(tzinfo=None) == naive:
        return candidate
    # Nonexistent wall time: fold=0 reads it with the offset before the gap and
    # lands after it; fold=1 reads it with the offset after and lands before.
    # The transition lies between: bisect on whole seconds.
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = sorted((int(other.timestamp()), int(candidate.timestamp())))
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def local_day_bounds(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Return the UTC [start, end) of the local calendar day containing moment.

    A daily cap counts sends in this range, so a 23- or 25-hour DST day is
    still one day.
    """
    _require_aware(moment, "moment")
    today = moment.astimezone(tz).date()
    start = first_instant_at(today, time(0, 0), tz)
    end = first_instant_at(today + timedelta(days=1), time(0, 0), tz)
    return start, end


def draw_jitter(max_jitter: timedelta, rng: random.Random) -> timedelta:
    """Return a random extra wait in [0, max_jitter], from an injected random source."""
    if max_jitter <= timedelta(0):
        return timedelta(0)
    return timedelta(seconds=round(rng.uniform(0.0, max_jitter.total_seconds()), 3))


def spacing_ready_at(
    last_sent_at: datetime | None, min_spacing: timedelta, jitter: timedelta = timedelta(0)
) -> datetime | None:
    """Return when a mailbox may send again after its last send, or None if it may now."""
    if last_sent_at is None or (min_spacing <= timedelta(0) and jitter <= timedelta(0)):
        return None
    _require_aware(last_sent_at, "last_sent_at")
    return last_sent_at.astimezone(UTC) + min_spacing + jitter


def add_local_days(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """Return moment plus whole local days, keeping its wall-clock time across DST."""
    _require_aware(moment, "moment")
    local = moment.astimezone(tz)
    later = local.date() + timedelta(days=days)
    return first_instant_at(later, local.time().replace(tzinfo=None), tz)
