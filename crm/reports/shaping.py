"""Turn counted groups into report rows: rates, Wilson intervals, labels, JSON, CSV. Pure.

Takes plain values (GroupCounts from crm/reports/breakdown.py and label maps),
so the page, the CLI and the digest show the very same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm.reports.definitions import SMALL_SAMPLE
from crm.reports.dimensions import DIMENSIONS

Z95 = 1.959963984540054
GROUP_SEPARATOR = " × "


@dataclass(frozen=True)
class GroupTimes:
    """Days from first touch to placement over a group's placed prospects."""

    median: float | None
    mean: float | None
    count: int

    @classmethod
    def none(cls) -> GroupTimes:
        return cls(None, None, 0)


@dataclass(frozen=True)
class GroupCounts:
    """What SQL counted for one group (keys in the order of the breakdowns)."""

    keys: tuple[Any, ...]
    contacted: int
    contacted_prospects: int
    replied: int
    positive: int
    placed: int
    placed_after_email: int
    bounces: int = 0
    unsubscribes: int = 0
    times: GroupTimes = field(default_factory=GroupTimes.none)

    @property
    def placed_without_email(self) -> int:
        return self.placed - self.placed_after_email


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval of a proportion; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """A rate with its counts and its Wilson 95% interval."""

    count: int
    of: int

    @property
    def value(self) -> float | None:
        return self.count / self.of if self.of else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.count, self.of)

    def json(self) -> float | None:
        return _round(self.value)

    def interval_json(self) -> list[float] | None:
        found = self.interval
        return None if found is None else [_round(found[0]), _round(found[1])]  # type: ignore[list-item]

    def percent(self) -> str:
        """ "22.5%", or "–" when nothing was counted."""
        return "–" if self.value is None else f"{self.value * 100:.1f}%"

    def interval_text(self) -> str:
        found = self.interval
        if found is None:
            return ""
        return f"{found[0] * 100:.1f}–{found[1] * 100:.1f}%"


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _days(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


@dataclass(frozen=True)
class Group:
    """One key of a row: the breakdown, its raw value (for JSON) and its label."""

    dimension: str
    value: Any
    label: str


@dataclass(frozen=True)
class ReportRow:
    groups: tuple[Group, ...]
    counts: GroupCounts

    @property
    def label(self) -> str:
        return GROUP_SEPARATOR.join(g.label for g in self.groups) or "all"

    @property
    def reply(self) -> Rate:
        return Rate(self.counts.replied, self.counts.contacted)

    @property
    def positive(self) -> Rate:
        return Rate(self.counts.positive, self.counts.contacted)

    @property
    def placement(self) -> Rate:
        return Rate(self.counts.placed_after_email, self.counts.contacted_prospects)

    @property
    def small(self) -> bool:
        return self.counts.contacted_prospects < SMALL_SAMPLE

    @property
    def median_days(self) -> float | None:
        return _days(self.counts.times.median)

    @property
    def mean_days(self) -> float | None:
        return _days(self.counts.times.mean)


def shape_rows(
    dims: Sequence[str],
    groups: Sequence[GroupCounts],
    labels: Mapping[str, Mapping[Any, str]] | None = None,
) -> list[ReportRow]:
    """Label and sort counted groups into report rows (natural order, missing keys last)."""
    labels = labels or {}
    rows = []
    for counts in groups:
        parts = tuple(
            Group(name, value, DIMENSIONS[name].label(value, labels.get(name, {})))
            for name, value in zip(dims, counts.keys, strict=True)
        )
        rows.append(ReportRow(parts, counts))

    def order(row: ReportRow) -> tuple[Any, ...]:
        return tuple(DIMENSIONS[g.dimension].sort_key(g.value, g.label) for g in row.groups)

    return sorted(rows, key=order)


def _json_value(group: Group) -> Any:
    if group.value is None:
        return None
    if group.dimension in ("tier", "step"):
        return int(group.value)
    if group.dimension in ("target", "week"):
        return group.label if group.dimension == "target" else str(group.value)
    return group.label


def row_json(row: ReportRow) -> dict[str, Any]:
    """The CONTRACT shape of one row of `crm report --format json`."""
    c = row.counts
    data: dict[str, Any] = {"group": row.label}
    for group in row.groups:
        data[DIMENSIONS[group.dimension].key] = _json_value(group)
    data.update(
        contacted=c.contacted,
        contacted_prospects=c.contacted_prospects,
        replied=c.replied,
        positive=c.positive,
        placed=c.placed,
        placed_after_email=c.placed_after_email,
        placed_without_email=c.placed_without_email,
        reply_rate=row.reply.json(),
        positive_reply_rate=row.positive.json(),
        placement_rate=row.placement.json(),
        reply_rate_ci=row.reply.interval_json(),
        positive_reply_rate_ci=row.positive.interval_json(),
        placement_rate_ci=row.placement.interval_json(),
        median_days_to_placement=row.median_days,
        mean_days_to_placement=row.mean_days,
        bounces=c.bounces,
        unsubscribes=c.unsubscribes,
        small_sample=row.small,
    )
    return data


TABLE_HEADERS = (
    "contacted",
    "replied",
    "positive",
    "placed",
    "reply rate",
    "reply 95% CI",
    "positive rate",
    "positive 95% CI",
    "placement rate",
    "placement 95% CI",
    "median days",
    "mean days",
    "bounces",
    "unsubscribes",
    "small",
)


def headers(dims: Sequence[str]) -> list[str]:
    """Column headings of the table and CSV forms."""
    return [DIMENSIONS[d].heading for d in dims] + list(TABLE_HEADERS)


def _days_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def table_cells(row: ReportRow) -> list[str]:
    """One row as text cells: what the CLI table and the page show."""
    c = row.counts
    placed = str(c.placed)
    if c.placed_without_email:
        placed += f" ({c.placed_without_email} without email)"
    return [g.label for g in row.groups] + [
        f"{c.contacted} ({c.contacted_prospects} {_plural(c.contacted_prospects, 'prospect')})",
        str(c.replied),
        str(c.positive),
        placed,
        row.reply.percent(),
        row.reply.interval_text(),
        row.positive.percent(),
        row.positive.interval_text(),
        row.placement.percent(),
        row.placement.interval_text(),
        _days_text(row.median_days),
        _days_text(row.mean_days),
        str(c.bounces),
        str(c.unsubscribes),
        "small" if row.small else "",
    ]


CSV_HEADERS = (
    "contacted",
    "contacted_prospects",
    "replied",
    "positive",
    "placed",
    "placed_without_email",
    "reply_rate",
    "reply_rate_low",
    "reply_rate_high",
    "positive_reply_rate",
    "positive_reply_rate_low",
    "positive_reply_rate_high",
    "placement_rate",
    "placement_rate_low",
    "placement_rate_high",
    "median_days_to_placement",
    "mean_days_to_placement",
    "bounces",
    "unsubscribes",
    "small_sample",
)


def csv_header(dims: Sequence[str]) -> list[str]:
    return [DIMENSIONS[d].key for d in dims] + list(CSV_HEADERS)


def csv_cells(row: ReportRow) -> list[Any]:
    """One row for a spreadsheet: raw numbers, rates as fractions."""
    c = row.counts

    def bounds(rate: Rate) -> list[Any]:
        found: list[Any] = rate.interval_json() or [None, None]
        return [rate.json(), *found]

    return [g.label if g.value is None else _json_value(g) for g in row.groups] + [
        c.contacted,
        c.contacted_prospects,
        c.replied,
        c.positive,
        c.placed,
        c.placed_without_email,
        *bounds(row.reply),
        *bounds(row.positive),
        *bounds(row.placement),
        row.median_days,
        row.mean_days,
        c.bounces,
        c.unsubscribes,
        "yes" if row.small else "no",
    ]
