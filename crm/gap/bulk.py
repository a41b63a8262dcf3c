"""Insert and update 100,000+ rows in the session's transaction, fast on both databases.

SQLite: one executemany per batch (Core, no ORM bookkeeping). PostgreSQL:
COPY, and updates through a COPY-filled temporary table joined in one
UPDATE, since psycopg's executemany sends a statement per row. Values go
through each column's SQLAlchemy type first (JSON, enums, UTC datetimes),
so both paths store exactly what the ORM would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.engine import Connection

from crm.extensions import db

BATCH = 5000


def _table(model: Any) -> Table:
    return model.__table__


def _connection() -> Connection:
    return db.session.connection()


def _processors(conn: Connection, table: Table, keys: Sequence[str]) -> list[Any]:
    dialect = conn.dialect
    return [table.c[k].type.bind_processor(dialect) for k in keys]


def _copy_rows(conn: Connection, table: Table, name: str, keys: Sequence[str],
               rows: Sequence[dict[str, Any]]) -> None:  # fmt: skip
    """COPY rows into `name` (a table shaped like `table` for these keys)."""
    processors = _processors(conn, table, keys)
    columns = ", ".join(f'"{k}"' for k in keys)
    raw: Any = conn.connection.dbapi_connection  # psycopg's: it has COPY
    with raw.cursor() as cursor, cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_copy_value(p, row[k]) for k, p in zip(keys, processors, strict=True)])


def _copy_value(process: Any, value: Any) -> Any:
    if process is not None:
        value = process(value)
    # psycopg adapts JSON only when wrapped; COPY's text format takes the JSON text.
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def bulk_insert(model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) in the current transaction."""
    if not rows:
        return
    conn = _connection()
    table = _table(model)
    if conn.dialect.name == "postgresql":
        _fill_defaults(table, rows)
        _copy_rows(conn, table, table.name, list(rows[0]), rows)
        return
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), list(rows[start : start + BATCH]))


def _fill_defaults(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Add the Python-side column defaults COPY would not apply (executemany does)."""
    missing = [c for c in table.columns if c.key not in rows[0] and c.default is not None]
    for column in missing:
        default = column.default
        for row in rows:
            arg = default.arg  # type: ignore[union-attr]
            row[column.key] = arg(None) if callable(arg) else arg


def bulk_update(model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Update rows by their `id` (all rows with the same keys) in the current transaction."""
    if not rows:
        return
    conn = _connection()
    table = _table(model)
    keys = [k for k in rows[0] if k != "id"]
    if conn.dialect.name == "postgresql":
        columns = ", ".join(f'"{k}"' for k in ["id", *keys])
        conn.exec_driver_sql(
            f'CREATE TEMP TABLE "bulk_{table.name}" ON COMMIT DROP AS '
            f'SELECT {columns} FROM "{table.name}" WITH NO DATA'
        )
        _copy_rows(conn, table, f"bulk_{table.name}", ["id", *keys], rows)
        sets = ", ".join(f'"{k}" = b."{k}"' for k in keys)
        conn.exec_driver_sql(
            f'UPDATE "{table.name}" AS t SET {sets} FROM "bulk_{table.name}" AS b WHERE t.id = b.id'
        )
        conn.exec_driver_sql(f'DROP TABLE "bulk_{table.name}"')
        return
    stmt = (
        table.update()
        .where(table.c.id == bindparam("row_id"))
        .values({k: bindparam(f"v_{k}") for k in keys})
    )
    for start in range(0, len(rows), BATCH):
        conn.execute(stmt, [{"row_id": r["id"], **{f"v_{k}": r[k] for k in keys}}
                            for r in rows[start : start + BATCH]])  # fmt: skip
