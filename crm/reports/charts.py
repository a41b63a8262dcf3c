"""The dashboard's charts as data: what Chart.js draws and what the table beside it and the
CSV download say, from the same values. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crm.reports.activity import Week
from crm.reports.dimensions import DIMENSIONS
from crm.reports.forecast import Forecast
from crm.reports.funnel import STAGES, FunnelCounts
from crm.reports.health import LinkHealth
from crm.reports.shaping import Rate, ReportRow, csv_cells, csv_header


@dataclass(frozen=True)
class Table:
    """A chart's numbers: headings and rows for the page and the CSV download."""

    headers: list[str]
    rows: list[list[Any]]
    chart: dict[str, Any] = field(default_factory=dict)


def _rate_point(rate: Rate) -> dict[str, Any]:
    found = rate.interval
    return {
        "value": rate.json(),
        "low": None if found is None else round(found[0], 4),
        "high": None if found is None else round(found[1], 4),
        "count": rate.count,
        "of": rate.of,
    }


def rates_chart(rows: Sequence[ReportRow], which: Sequence[str]) -> dict[str, Any]:
    """Rates per group with their Wilson intervals ("reply", "positive", "placement")."""
    series = {
        "reply": ("Reply rate", lambda r: r.reply),
        "positive": ("Positive reply rate", lambda r: r.positive),
        "placement": ("Placement rate", lambda r: r.placement),
    }
    return {
        "kind": "rates",
        "labels": [r.label for r in rows],
        "small": [r.small for r in rows],
        "series": [
            {"name": series[w][0], "points": [_rate_point(series[w][1](r)) for r in rows]}
            for w in which
        ],
    }


def rates_table(dims: Sequence[str], rows: Sequence[ReportRow], which: Sequence[str]) -> Table:
    """A report's rows as a CSV table with a rates chart."""
    return Table(csv_header(dims), [csv_cells(r) for r in rows], rates_chart(rows, which))


def funnel_table(funnels: Sequence[FunnelCounts], overall: FunnelCounts) -> Table:
    """Each campaign's funnel and the overall one, with conversion from the stage before."""
    headers = ["campaign", "stage", "prospects", "conversion from previous stage"]
    rows: list[list[Any]] = []
    for funnel in [*funnels, overall] if len(funnels) > 1 else [overall]:
        for name, count, rate in funnel.steps():
            rows.append([funnel.campaign, name, count, None if rate is None else rate.json()])
    chart = {
        "kind": "funnel",
        "labels": list(STAGES),
        "values": [overall.stage(s) for s in STAGES],
    }
    return Table(headers, rows, chart)


def weekly_table(weeks: Sequence[Week]) -> Table:
    headers = ["week", "touches sent", "human replies", "links placed"]
    rows = [[w.monday.isoformat(), w.sent, w.replies, w.placed] for w in weeks]
    chart = {
        "kind": "weekly",
        "labels": [w.monday.isoformat() for w in weeks],
        "series": [
            {"name": "Touches sent", "values": [w.sent for w in weeks]},
            {"name": "Human replies", "values": [w.replies for w in weeks]},
            {"name": "Links placed", "values": [w.placed for w in weeks]},
        ],
    }
    return Table(headers, rows, chart)


def anchors_table(health: LinkHealth) -> Table:
    total = sum(health.anchors.values())
    rows = [[name, n, round(n / total, 4) if total else None] for name, n in health.anchors.items()]
    chart = {
        "kind": "doughnut",
        "labels": list(health.anchors),
        "values": list(health.anchors.values()),
    }
    return Table(["anchor type", "links", "share"], rows, chart)


def health_table(health: LinkHealth) -> Table:
    rows = [[state, n] for state, n in health.states.items()]
    chart = {"kind": "bar", "labels": list(health.states), "values": list(health.states.values())}
    return Table(["state", "links"], rows, chart)


def forecast_table(outlook: Forecast, angle_labels: dict[str, str]) -> Table:
    headers = ["angle", "tier", "prospects in sequence", "rate used", "based on",
               "history", "expected placements"]  # fmt: skip
    rows = []
    for line in outlook.lines:
        cell = line.cell
        rows.append(
            [
                angle_labels.get(cell.angle or "", cell.angle or "(no angle)"),
                cell.tier,
                cell.prospects,
                None if line.rate is None else line.rate.json(),
                line.basis,
                "" if line.rate is None else f"{line.rate.count} of {line.rate.of}",
                round(line.expected, 2),
            ]
        )
    return Table(headers, rows)


@dataclass(frozen=True)
class Matrix:
    """Two-breakdown rows laid out as a grid: first breakdown down, second across."""

    down: list[str]
    across: list[str]
    cells: dict[tuple[str, str], ReportRow]

    def cell(self, row: str, column: str) -> ReportRow | None:
        return self.cells.get((row, column))


def matrix(rows: Sequence[ReportRow]) -> Matrix:
    """Lay out rows of two breakdowns (already in natural order) as a grid."""
    down: list[str] = []
    across: list[tuple[Any, str]] = []
    cells: dict[tuple[str, str], ReportRow] = {}
    for row in rows:
        first, second = row.groups
        if first.label not in down:
            down.append(first.label)
        if second.label not in [label for _, label in across]:
            across.append((row.groups[1], second.label))
        cells[(first.label, second.label)] = row
    across.sort(key=lambda item: DIMENSIONS[item[0].dimension].sort_key(item[0].value, item[1]))
    return Matrix(down, [label for _, label in across], cells)
