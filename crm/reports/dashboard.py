"""Everything the manager's dashboard shows, gathered once for a scope.

The page, its CSV downloads and the weekly digest read this one object, so a
number is the same wherever it appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from crm.reports.activity import Week, weekly_activity
from crm.reports.forecast import (
    Forecast,
    QuarterPlan,
    forecast,
    plan_quarter,
    quarter_of,
    tier_rates,
)
from crm.reports.funnel import FunnelCounts, add_up, funnel_by_campaign
from crm.reports.health import LinkHealth, link_health
from crm.reports.labels import labels_for
from crm.reports.params import ReportScope
from crm.reports.pipeline import history_cells, links_placed_between, pipeline_cells
from crm.reports.report import build_report, build_total
from crm.reports.shaping import ReportRow
from crm.reports.stored import stored_facts


@dataclass(frozen=True)
class Outlook:
    """The forecast, the quarter so far, and the plan to reach a goal (when one is set)."""

    forecast: Forecast
    placed_this_quarter: int
    plan: QuarterPlan
    angle_labels: dict[str, str]


@dataclass(frozen=True)
class Dashboard:
    scope: ReportScope
    total: ReportRow
    by_angle: list[ReportRow]
    by_tier: list[ReportRow]
    angle_tier: list[ReportRow]
    funnels: list[FunnelCounts]
    weeks: list[Week]
    health: LinkHealth
    outlook: Outlook

    @property
    def funnel(self) -> FunnelCounts:
        return add_up(self.funnels)

    @property
    def has_prospects(self) -> bool:
        return self.funnel.prospects > 0

    @property
    def has_outreach(self) -> bool:
        return self.total.counts.contacted > 0 or self.total.counts.placed > 0


def build_outlook(scope: ReportScope, today: date, goal: int, source: Any = None) -> Outlook:
    """The forecast from the open pipeline, and what a quarter's goal still needs."""
    history = history_cells(scope, source)
    pipeline = pipeline_cells(scope)
    outlook = forecast(history, pipeline)
    start, end = quarter_of(today)
    placed = links_placed_between(scope, start, end)
    plan = plan_quarter(goal, placed, outlook, tier_rates(history), today)
    angles = labels_for(("angle",), ((c.angle,) for c in pipeline))["angle"]
    return Outlook(outlook, placed, plan, angles)


def build_dashboard(scope: ReportScope, today: date, goal: int) -> Dashboard:
    """Run every query of the dashboard for one scope (the facts computed once)."""
    with stored_facts(scope) as source:
        total = build_total(scope, source)
        by_angle = build_report(("angle",), scope, source)
        by_tier = build_report(("tier",), scope, source)
        angle_tier = build_report(("angle", "tier"), scope, source)
        undated = scope.date_from is None and scope.date_to is None
        outlook = build_outlook(scope, today, goal, source if undated else None)
    return Dashboard(
        scope=scope,
        total=total,
        by_angle=by_angle,
        by_tier=by_tier,
        angle_tier=angle_tier,
        funnels=funnel_by_campaign(scope),
        weeks=weekly_activity(scope, today),
        health=link_health(scope),
        outlook=outlook,
    )
