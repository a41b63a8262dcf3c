"""Day arithmetic the reports need, one meaning on SQLite and PostgreSQL.

Dates are UTC days: SQLite stores our timestamps as naive UTC text, and on
PostgreSQL a timestamptz is turned into a day in UTC explicitly, never in the
session's time zone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[Any]):
    """The UTC calendar day of a timestamp."""

    type = Date()
    inherit_cache = True


class week_start(FunctionElement[Any]):
    """The Monday (UTC) of a timestamp's ISO week."""

    type = Date()
    inherit_cache = True


class week_of_date(FunctionElement[Any]):
    """The Monday of a calendar date's ISO week."""

    type = Date()
    inherit_cache = True


class days_between(FunctionElement[Any]):
    """Whole days from the second date to the first (a later first date is positive)."""

    type = Float()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_pg(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(week_start)
def _week_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays on one); six days back is its Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_pg(element: week_start, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', ({inner}) AT TIME ZONE 'UTC') AS DATE)"


@compiles(week_of_date)
def _week_of_date_sqlite(element: week_of_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_of_date, "postgresql")
def _week_of_date_pg(element: week_of_date, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', CAST(({inner}) AS TIMESTAMP)) AS DATE)"


@compiles(days_between)
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({later}) - ({earlier}) AS DOUBLE PRECISION)"
