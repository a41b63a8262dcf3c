"""Read a report's parameters from text (CLI options, query strings): pure, one line per error.

Every error is a UserError whose `field` is the parameter's name, and whose
message starts with the name the caller shows (`--by` on the command line,
`Breakdown` on the page), so a user knows what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from crm.core.errors import UserError
from crm.reports.dimensions import DIMENSIONS, NAMES

MAX_BREAKDOWNS = 2


@dataclass(frozen=True)
class ReportScope:
    """Which facts a report reads: campaigns (None: every campaign), cohort days, specialist."""

    campaign_ids: tuple[int, ...] | None = None
    date_from: date | None = None
    date_to: date | None = None
    specialist_id: int | None = None

    @property
    def start(self) -> datetime | None:
        """The first instant of the range, UTC."""
        if self.date_from is None:
            return None
        return datetime.combine(self.date_from, time(), UTC)

    @property
    def end(self) -> datetime | None:
        """The first instant after the range (the `to` day is included), UTC."""
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time(), UTC)


def parse_breakdowns(raw: str | Iterable[str] | None, shown: str = "--by") -> tuple[str, ...]:
    """Return the breakdown names of "angle,tier" (or a list of such), validated."""
    parts: list[str] = []
    for piece in [raw] if isinstance(raw, str) or raw is None else list(raw):
        parts += [p.strip().lower().replace("_", "-") for p in (piece or "").split(",")]
    names = tuple(p for p in parts if p)
    for name in names:
        if name not in DIMENSIONS:
            raise UserError(
                f"{shown}: unknown breakdown {name!r} (choose from {', '.join(NAMES)})", field="by"
            )
    if len(names) > MAX_BREAKDOWNS:
        raise UserError(
            f"{shown}: at most {MAX_BREAKDOWNS} breakdowns, got {len(names)}", field="by"
        )
    if len(set(names)) != len(names):
        raise UserError(f"{shown}: {names[0]!r} is named twice", field="by")
    return names


def parse_day(raw: str | None, shown: str, field: str) -> date | None:
    """Return the date of "YYYY-MM-DD", None for an empty value."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{shown}: {text!r} is not a date (use YYYY-MM-DD)", field=field) from None


def check_range(date_from: date | None, date_to: date | None, shown_to: str = "--to") -> None:
    """Refuse a range that ends before it starts."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise UserError(
            f"{shown_to}: {date_to.isoformat()} is before the start {date_from.isoformat()}",
            field="to",
        )
