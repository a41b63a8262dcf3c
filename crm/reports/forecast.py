"""The forecast: placements expected from the prospects now in sequence. Pure.

Each prospect in sequence is expected to place at the historical placement
rate of its campaign, angle and tier — the share of prospects whose outreach
finished (no enrollment still active or paused) that won a link. A cell with
fewer than SMALL_SAMPLE finished prospects borrows the rate of the angle
(all tiers), then of the campaign. The interval adds up the same counts at
the low and high ends of each rate's Wilson 95% interval.

"To reach N links this quarter" divides what is still missing after the
links placed so far and the expected ones by each tier's rate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from crm.reports.definitions import SMALL_SAMPLE
from crm.reports.shaping import Rate

TIERS = (1, 2, 3)


@dataclass(frozen=True)
class HistoryCell:
    """Finished prospects of one campaign, angle and tier, and how many of them placed."""

    campaign_id: int
    angle: str | None
    tier: int | None
    finished: int
    placed: int


@dataclass(frozen=True)
class PipelineCell:
    """Prospects of one campaign, angle and tier in sequence now, without a won link yet."""

    campaign_id: int
    angle: str | None
    tier: int | None
    prospects: int


@dataclass(frozen=True)
class ForecastLine:
    """What one pipeline cell is expected to bring, and which history that rests on."""

    cell: PipelineCell
    rate: Rate | None
    basis: str  # "angle × tier", "angle", "campaign", or "no history"

    @property
    def expected(self) -> float:
        value = self.rate.value if self.rate is not None else None
        return 0.0 if value is None else self.cell.prospects * value

    def bounds(self) -> tuple[float, float]:
        found = self.rate.interval if self.rate is not None else None
        if found is None:
            return 0.0, 0.0
        return self.cell.prospects * found[0], self.cell.prospects * found[1]


@dataclass(frozen=True)
class Forecast:
    lines: list[ForecastLine]

    @property
    def in_sequence(self) -> int:
        return sum(line.cell.prospects for line in self.lines)

    @property
    def expected(self) -> float:
        return sum(line.expected for line in self.lines)

    @property
    def low(self) -> float:
        return sum(line.bounds()[0] for line in self.lines)

    @property
    def high(self) -> float:
        return sum(line.bounds()[1] for line in self.lines)

    @property
    def without_history(self) -> int:
        return sum(line.cell.prospects for line in self.lines if line.rate is None)


def _rates(history: Iterable[HistoryCell]) -> tuple[dict[Any, list[int]], ...]:
    cells: dict[tuple[int, str | None, int | None], list[int]] = defaultdict(lambda: [0, 0])
    angles: dict[tuple[int, str | None], list[int]] = defaultdict(lambda: [0, 0])
    campaigns: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for h in history:
        for bucket in (
            cells[(h.campaign_id, h.angle, h.tier)],
            angles[(h.campaign_id, h.angle)],
            campaigns[h.campaign_id],
        ):
            bucket[0] += h.placed
            bucket[1] += h.finished
    return cells, angles, campaigns


def forecast(history: Sequence[HistoryCell], pipeline: Sequence[PipelineCell]) -> Forecast:
    """Expected placements of each pipeline cell from the best history that is big enough."""
    cells, angles, campaigns = _rates(history)
    lines = []
    for cell in pipeline:
        choices = (
            ("angle × tier", cells.get((cell.campaign_id, cell.angle, cell.tier))),
            ("angle", angles.get((cell.campaign_id, cell.angle))),
            ("campaign", campaigns.get(cell.campaign_id)),
        )
        chosen: ForecastLine | None = None
        for basis, counts in choices:
            if counts and (counts[1] >= SMALL_SAMPLE or basis == "campaign"):
                chosen = ForecastLine(cell, Rate(counts[0], counts[1]), basis)
                break
        lines.append(chosen or ForecastLine(cell, None, "no history"))
    return Forecast(lines)


def tier_rates(history: Iterable[HistoryCell]) -> dict[int, Rate]:
    """The placement rate of each tier over every finished prospect given."""
    counts: dict[int, list[int]] = {t: [0, 0] for t in TIERS}
    for h in history:
        if h.tier in counts:
            counts[h.tier][0] += h.placed
            counts[h.tier][1] += h.finished
    return {t: Rate(p, n) for t, (p, n) in counts.items()}


@dataclass(frozen=True)
class QuarterPlan:
    """How far the quarter's goal is, and how many more prospects of each tier would close it."""

    goal: int
    placed: int
    expected: float
    missing: float
    more_by_tier: dict[int, int | None]  # None: the tier has no placement yet to go by
    quarter_start: date
    quarter_end: date
    days_left: int


def quarter_of(today: date) -> tuple[date, date]:
    """The first and last day of today's calendar quarter."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    end = date(today.year + 1, 1, 1) if first_month == 10 else date(today.year, first_month + 3, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def plan_quarter(
    goal: int, placed: int, outlook: Forecast, rates: dict[int, Rate], today: date
) -> QuarterPlan:
    """To reach `goal` links this quarter: what is missing, and about how many to contact."""
    missing = max(0.0, goal - placed - outlook.expected)
    more: dict[int, int | None] = {}
    for tier, rate in rates.items():
        value = rate.value
        more[tier] = None if not value else math.ceil(missing / value)
    start, end = quarter_of(today)
    return QuarterPlan(
        goal, placed, outlook.expected, missing, more, start, end, (end - today).days
    )
