"""Facts computed once per page: a page that groups the same facts many ways (the dashboard)
stores them in a temporary table first, so each breakdown reads a few hundred thousand narrow
rows instead of recomputing them from a million touches.

The table is created, read and dropped inside a savepoint, so whatever the request does
next (commit or rollback) no table is left on the pooled connection: pysqlite opens no
transaction before DDL, and a rollback after the drop would otherwise bring it back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, MetaData, Table, insert

from crm.extensions import db
from crm.reports.facts import FACT_COLUMNS, Grain, facts_select
from crm.reports.params import ReportScope

_names = itertools.count(1)


@contextmanager
def stored_facts(scope: ReportScope, grain: Grain = "enrollment") -> Iterator[Table]:
    """Yield a temporary table holding the facts of a scope."""
    table = Table(
        f"report_facts_{next(_names)}",
        MetaData(),
        *(Column(name, kind) for name, kind in FACT_COLUMNS),
        prefixes=["TEMPORARY"],
    )
    with db.session.begin_nested():
        connection = db.session.connection()
        table.create(connection)
        try:
            names = [name for name, _ in FACT_COLUMNS]
            connection.execute(insert(table).from_select(names, facts_select(scope, grain)))
            yield table
        finally:
            table.drop(connection)
