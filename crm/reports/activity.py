"""Weekly activity: touches sent, human replies received and links placed, per ISO week.

Each event counts in the week it happened (not the enrollment's cohort), so
the chart shows the team's rhythm; weeks with nothing are filled with zeros.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from crm.extensions import db
from crm.models import (
    Enrollment,
    InboundKind,
    InboundMessage,
    Prospect,
    Touch,
    TouchState,
    WonLink,
)
from crm.reports.params import ReportScope
from crm.reports.sqlfuncs import week_of_date, week_start

DEFAULT_WEEKS = 26


@dataclass(frozen=True)
class Week:
    monday: date
    sent: int
    replies: int
    placed: int


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def fill_weeks(start: date, end: date, counts: dict[str, dict[date, int]]) -> list[Week]:
    """Every week from start's to end's, each with its counts (zero when none). Pure."""
    weeks = []
    monday = monday_of(start)
    while monday <= end:
        weeks.append(
            Week(
                monday,
                counts["sent"].get(monday, 0),
                counts["replies"].get(monday, 0),
                counts["placed"].get(monday, 0),
            )
        )
        monday += timedelta(days=7)
    return weeks


def _campaigns(scope: ReportScope, column: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.campaign_ids is not None:
        where.append(column.in_(scope.campaign_ids))
    if scope.specialist_id is not None:
        where.append(Prospect.assigned_to_id == scope.specialist_id)
    return where


def _by_week(stmt: Any, week: Any) -> dict[date, int]:
    rows: Iterable[Any] = db.session.execute(stmt.add_columns(week, func.count()).group_by(week))
    return {_day(w): int(n) for w, n in rows if w is not None}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def weekly_activity(scope: ReportScope, today: date) -> list[Week]:
    """Sends, replies and placements per week over the scope's range (default: 26 weeks)."""
    end = scope.date_to or today
    start = scope.date_from or (monday_of(end) - timedelta(weeks=DEFAULT_WEEKS - 1))
    ranged = ReportScope(scope.campaign_ids, start, end, scope.specialist_id)
    sent_week = week_start(Touch.sent_at)
    sent = _by_week(
        select()
        .select_from(Touch)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(
            Touch.state == TouchState.SENT,
            Touch.sent_at >= ranged.start,
            Touch.sent_at < ranged.end,
            *_campaigns(scope, Prospect.campaign_id),
        ),
        sent_week,
    )
    replies = _by_week(
        select()
        .select_from(InboundMessage)
        .join(Prospect, Prospect.id == InboundMessage.prospect_id)
        .where(
            InboundMessage.kind == InboundKind.HUMAN_REPLY,
            InboundMessage.received_at >= ranged.start,
            InboundMessage.received_at < ranged.end,
            *_campaigns(scope, Prospect.campaign_id),
        ),
        week_start(InboundMessage.received_at),
    )
    placed = _by_week(
        select()
        .select_from(WonLink)
        .join(Prospect, Prospect.id == WonLink.prospect_id)
        .where(
            WonLink.placed_on >= start,
            WonLink.placed_on <= end,
            *_campaigns(scope, WonLink.campaign_id),
        ),
        week_of_date(WonLink.placed_on),
    )
    return fill_weeks(start, end, {"sent": sent, "replies": replies, "placed": placed})
