"""Count the facts per group: one GROUP BY for the counts, one window query for the times.

Returns plain GroupCounts (crm/reports/shaping.py turns them into rows with
rates and intervals). Both queries read crm/reports/facts.py, so every
report — page, CLI, digest, API — counts the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, and_, case, cast, distinct, func, select

from crm.extensions import db
from crm.reports.dimensions import DIMENSIONS
from crm.reports.facts import facts
from crm.reports.params import ReportScope
from crm.reports.shaping import GroupCounts, GroupTimes
from crm.reports.sqlfuncs import days_between, utc_day


def _keys(dims: Sequence[str], table: Any) -> list[Any]:
    return [table.c[DIMENSIONS[d].key] for d in dims]


def _source(dims: Sequence[str], scope: ReportScope, source: Any) -> Any:
    """The facts to group: a stored table (enrollment grain) or a fresh subquery."""
    if source is not None and "step" not in dims:
        return source
    return facts(scope, "touch" if "step" in dims else "enrollment")


def count_statement(dims: Sequence[str], scope: ReportScope, source: Any = None) -> Any:
    """The SELECT ... GROUP BY that counts contacted, replied, positive, placed per group."""
    f = _source(dims, scope, source)
    keys = _keys(dims, f)
    return select(
        *keys,
        func.coalesce(func.sum(f.c.contacted), 0).label("contacted"),
        func.count(distinct(case((f.c.contacted == 1, f.c.prospect_id)))).label(
            "contacted_prospects"
        ),
        func.coalesce(func.sum(f.c.replied), 0).label("replied"),
        func.coalesce(func.sum(f.c.positive), 0).label("positive"),
        func.count(distinct(case((f.c.placed_on.is_not(None), f.c.prospect_id)))).label("placed"),
        func.count(
            distinct(case((and_(f.c.placed_on.is_not(None), f.c.contacted == 1), f.c.prospect_id)))
        ).label("placed_after_email"),
        func.coalesce(func.sum(f.c.bounced), 0).label("bounces"),
        func.coalesce(func.sum(f.c.unsubscribed), 0).label("unsubscribes"),
    ).group_by(*keys)


def times_statement(dims: Sequence[str], scope: ReportScope, source: Any = None) -> Any:
    """Median and mean days from a placed prospect's first touch to its link, per group."""
    f = _source(dims, scope, source)
    keys = _keys(dims, f)
    per_prospect = (
        select(
            *keys,
            func.min(f.c.first_sent_at).label("first_sent_at"),
            func.min(f.c.placed_on).label("placed_on"),
        )
        .where(f.c.contacted == 1, f.c.placed_on.is_not(None))
        .group_by(*keys, f.c.prospect_id)
        .subquery("placed")
    )
    pkeys = _keys(dims, per_prospect)
    days = days_between(per_prospect.c.placed_on, utc_day(per_prospect.c.first_sent_at))
    ranked = (
        select(
            *pkeys,
            days.label("days"),
            func.row_number().over(partition_by=pkeys or None, order_by=days).label("nth"),
            func.count().over(partition_by=pkeys or None).label("n"),
        )
        .where(days >= 0)
        .subquery("ranked")
    )
    rkeys = _keys(dims, ranked)
    middle = ranked.c.nth.in_(((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2))
    return select(
        *rkeys,
        cast(func.avg(case((middle, ranked.c.days))), Float).label("median_days"),
        cast(func.avg(ranked.c.days), Float).label("mean_days"),
        func.count().label("timed"),
    ).group_by(*rkeys)


def count_groups(dims: Sequence[str], scope: ReportScope, source: Any = None) -> list[GroupCounts]:
    """Run both statements for a breakdown (over stored facts when given); one per group."""
    n = len(dims)
    times = {
        tuple(row[:n]): GroupTimes(row.median_days, row.mean_days, int(row.timed))
        for row in db.session.execute(times_statement(dims, scope, source))
    }
    return [
        GroupCounts(
            keys=tuple(_plain(v) for v in row[:n]),
            contacted=int(row.contacted),
            contacted_prospects=int(row.contacted_prospects),
            replied=int(row.replied),
            positive=int(row.positive),
            placed=int(row.placed),
            placed_after_email=int(row.placed_after_email),
            bounces=int(row.bounces),
            unsubscribes=int(row.unsubscribes),
            times=times.get(tuple(row[:n]), GroupTimes.none()),
        )
        for row in db.session.execute(count_statement(dims, scope, source))
    ]


def _plain(value: Any) -> Any:
    """Keys as plain JSON-able values: a week's Monday as its ISO text on both backends."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
