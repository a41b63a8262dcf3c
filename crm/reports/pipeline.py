"""The forecast's inputs in SQL: finished history per campaign × angle × tier, the open
pipeline, and the links placed this quarter (crm/reports/forecast.py does the arithmetic)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select

from crm.extensions import db
from crm.models import Enrollment, Prospect, WonLink
from crm.reports.facts import OPEN_STATES, facts
from crm.reports.forecast import HistoryCell, PipelineCell
from crm.reports.params import ReportScope


def history_cells(scope: ReportScope, source: Any = None) -> list[HistoryCell]:
    """Contacted prospects whose outreach finished (or that placed), and how many placed.

    History has no date range; `source`: facts stored for this scope without one.
    """
    f = source
    if f is None:
        f = facts(ReportScope(scope.campaign_ids, specialist_id=scope.specialist_id))
    finished = (
        select(
            f.c.campaign_id,
            f.c.angle,
            f.c.tier,
            f.c.prospect_id,
            func.max(f.c.open).label("open"),
            func.max(case((f.c.placed_on.is_not(None), 1), else_=0)).label("placed"),
        )
        .where(f.c.contacted == 1)
        .group_by(f.c.campaign_id, f.c.angle, f.c.tier, f.c.prospect_id)
        .subquery("per_prospect")
    )
    done = or_(finished.c.open == 0, finished.c.placed == 1)
    stmt = select(
        finished.c.campaign_id,
        finished.c.angle,
        finished.c.tier,
        func.count(distinct(case((done, finished.c.prospect_id)))),
        func.coalesce(func.sum(finished.c.placed), 0),
    ).group_by(finished.c.campaign_id, finished.c.angle, finished.c.tier)
    return [HistoryCell(c, a, t, int(n), int(p)) for c, a, t, n, p in db.session.execute(stmt) if n]


def pipeline_cells(scope: ReportScope) -> list[PipelineCell]:
    """Prospects with an active or paused enrollment and no won link, per angle and tier."""
    won = select(WonLink.id).where(WonLink.prospect_id == Prospect.id).exists()
    open_angle = (
        select(
            Enrollment.prospect_id.label("prospect_id"),
            func.min(Enrollment.angle).label("angle"),
        )
        .where(Enrollment.state.in_(OPEN_STATES))
        .group_by(Enrollment.prospect_id)
        .subquery("open_angle")
    )
    where = [~won]
    if scope.campaign_ids is not None:
        where.append(Prospect.campaign_id.in_(scope.campaign_ids))
    if scope.specialist_id is not None:
        where.append(Prospect.assigned_to_id == scope.specialist_id)
    stmt = (
        select(Prospect.campaign_id, open_angle.c.angle, Prospect.tier, func.count())
        .join(open_angle, open_angle.c.prospect_id == Prospect.id)
        .where(*where)
        .group_by(Prospect.campaign_id, open_angle.c.angle, Prospect.tier)
    )
    return [PipelineCell(c, a, t, int(n)) for c, a, t, n in db.session.execute(stmt)]


def links_placed_between(scope: ReportScope, start: date, end: date) -> int:
    """Won links placed from `start` to `end` (both included) in the scope's campaigns."""
    where = [WonLink.placed_on >= start, WonLink.placed_on <= end]
    if scope.campaign_ids is not None:
        where.append(WonLink.campaign_id.in_(scope.campaign_ids))
    stmt = select(func.count()).select_from(WonLink).where(and_(*where))
    if scope.specialist_id is not None:
        stmt = stmt.join(Prospect, Prospect.id == WonLink.prospect_id).where(
            Prospect.assigned_to_id == scope.specialist_id
        )
    return int(db.session.scalar(stmt) or 0)
