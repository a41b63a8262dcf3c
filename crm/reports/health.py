"""Link health: won links live / inconclusive / lost / unchecked, the anchor mix, links per week.

Counted over won links placed in the scope's range (every link without one),
in the scope's campaigns, for the specialist's prospects when one is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from crm.extensions import db
from crm.models import AnchorType, LinkState, Prospect, WonLink
from crm.reports.params import ReportScope


@dataclass(frozen=True)
class LinkHealth:
    states: dict[str, int]
    anchors: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.states.values())


def _where(scope: ReportScope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.campaign_ids is not None:
        where.append(WonLink.campaign_id.in_(scope.campaign_ids))
    if scope.date_from is not None:
        where.append(WonLink.placed_on >= scope.date_from)
    if scope.date_to is not None:
        where.append(WonLink.placed_on <= scope.date_to)
    return where


def _grouped(scope: ReportScope, column: Any) -> dict[Any, int]:
    stmt = select(column, func.count()).select_from(WonLink).where(*_where(scope))
    if scope.specialist_id is not None:
        stmt = stmt.join(Prospect, Prospect.id == WonLink.prospect_id).where(
            Prospect.assigned_to_id == scope.specialist_id
        )
    return {key: int(n) for key, n in db.session.execute(stmt.group_by(column))}


def link_health(scope: ReportScope) -> LinkHealth:
    """Count won links by checked state and by anchor type (every state and type listed)."""
    states = _grouped(scope, WonLink.state)
    anchors = _grouped(scope, WonLink.anchor_type)
    return LinkHealth(
        {
            s.value: states.get(s, 0)
            for s in (LinkState.LIVE, LinkState.INCONCLUSIVE, LinkState.LOST, LinkState.UNCHECKED)
        },
        {a.label: anchors.get(a, 0) for a in AnchorType},
    )
