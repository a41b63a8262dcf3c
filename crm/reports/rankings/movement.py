"""Ranking movement of a campaign's target pages: position and clicks over time, the won-link
dates, and the change in the 30/60/90 days after the first link to each page was placed.

The series is grouped in SQL (one row per page and day: the mean position of
the ranked rows, the sum of clicks); the change is pure arithmetic on it:
before = the last observation on or before the placement day (at most
LOOKBACK days earlier); after N days = the observation nearest to the day N
days later, within WINDOW days. A lower position is better.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, select

from crm.extensions import db
from crm.models import RankImport, RankObservation, TargetPage, WonLink
from crm.reports.rankings.parse import url_key

HORIZONS = (30, 60, 90)
LOOKBACK = 45
WINDOW = 15


@dataclass(frozen=True)
class Point:
    day: date
    position: float | None
    clicks: int | None


@dataclass(frozen=True)
class Change:
    """Position and clicks N days after placement, against before it."""

    days: int
    before: Point
    after: Point

    @property
    def position(self) -> float | None:
        if self.before.position is None or self.after.position is None:
            return None
        return round(self.after.position - self.before.position, 1)

    @property
    def clicks(self) -> int | None:
        if self.before.clicks is None or self.after.clicks is None:
            return None
        return self.after.clicks - self.before.clicks


@dataclass
class PageMovement:
    page_id: int
    url: str
    title: str
    points: list[Point] = field(default_factory=list)
    placed: list[date] = field(default_factory=list)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    def changes(self) -> dict[int, Change | None]:
        """The change 30, 60 and 90 days after the first link to the page was placed."""
        if not self.placed:
            return dict.fromkeys(HORIZONS)
        return changes_after(self.points, min(self.placed))


def changes_after(points: list[Point], placed: date) -> dict[int, Change | None]:
    """Compare the last point before `placed` with the point nearest each horizon. Pure."""
    before = [p for p in points if placed - timedelta(days=LOOKBACK) <= p.day <= placed]
    out: dict[int, Change | None] = dict.fromkeys(HORIZONS)
    if not before:
        return out
    base = before[-1]
    for horizon in HORIZONS:
        target = placed + timedelta(days=horizon)
        near = [p for p in points if p.day > placed and abs((p.day - target).days) <= WINDOW]
        if near:
            best = min(near, key=lambda p: (abs((p.day - target).days), p.day))
            out[horizon] = Change(horizon, base, best)
    return out


def page_movements(campaign_id: int) -> list[PageMovement]:
    """Every target page of a campaign with its series and its won-link dates."""
    pages = db.session.execute(
        select(TargetPage.id, TargetPage.url, TargetPage.title)
        .where(TargetPage.campaign_id == campaign_id)
        .order_by(TargetPage.id)
    ).all()
    by_key: dict[str, PageMovement] = {}
    movements = []
    for page_id, url, title in pages:
        movement = PageMovement(page_id, url, title)
        movements.append(movement)
        by_key.setdefault(url_key(url), movement)
    if not movements:
        return []
    series = db.session.execute(
        select(
            RankObservation.url_key,
            RankObservation.observed_on,
            cast(func.avg(RankObservation.position), Float),
            func.sum(RankObservation.clicks),
        )
        .where(
            RankObservation.campaign_id == campaign_id,
            RankObservation.url_key.in_(list(by_key)),
        )
        .group_by(RankObservation.url_key, RankObservation.observed_on)
        .order_by(RankObservation.url_key, RankObservation.observed_on)
    )
    for key, day, position, clicks in series:
        by_key[key].points.append(
            Point(
                day,
                None if position is None else round(position, 1),
                None if clicks is None else int(clicks),
            )
        )
    placed = db.session.execute(
        select(WonLink.target_page_id, WonLink.target_url, WonLink.placed_on)
        .where(WonLink.campaign_id == campaign_id)
        .order_by(WonLink.placed_on)
    )
    by_id = {m.page_id: m for m in movements}
    for linked_id, target_url, day in placed:
        found = by_id.get(linked_id) if linked_id is not None else by_key.get(url_key(target_url))
        if found is not None:
            found.placed.append(day)
    return movements


def imports_of(campaign_id: int, limit: int = 50) -> list[RankImport]:
    """The campaign's ranking imports, newest first."""
    stmt: Any = (
        select(RankImport)
        .where(RankImport.campaign_id == campaign_id)
        .order_by(RankImport.as_of.desc(), RankImport.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def chart_of(movement: PageMovement) -> dict[str, Any]:
    """Position and clicks over time with the won-link days marked, for Chart.js. Pure."""
    days = sorted({p.day for p in movement.points} | set(movement.placed))
    at = {p.day: p for p in movement.points}
    return {
        "kind": "ranking",
        "labels": [d.isoformat() for d in days],
        "position": [at[d].position if d in at else None for d in days],
        "clicks": [at[d].clicks if d in at else None for d in days],
        "placed": [d.isoformat() for d in movement.placed],
    }
