"""Insert and update 100,000+ rows in the session's transaction, fast on both databases.

Values go through each column's SQLAlchemy type first (JSON, enums, UTC
datetimes), a column at a time, and the columns every row shares (`same`,
and the Python-side defaults of columns not given) once per batch, so both
databases store exactly what the ORM would. Then one statement per batch:
SQLite an executemany of the ready tuples, PostgreSQL COPY (psycopg's
executemany sends a statement per row); updates on PostgreSQL go through a
COPY-filled temporary table joined in one UPDATE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import JSON, Table, bindparam
from sqlalchemy.engine import Connection

from crm.extensions import db, json_text

BATCH = 5000
T = TypeVar("T")


def batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """Yield lists of at most `size` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def clip(value: str | None, size: int) -> str | None:
    """Return a text cut to its column's size (None for none or empty)."""
    return value[:size] if value else None


def _table(model: Any) -> Table:
    return model.__table__


def _connection() -> Connection:
    return db.session.connection()


def _to_db(conn: Connection, table: Table, key: str) -> Callable[[Any], Any] | None:
    """Return what turns a Python value of this column into what the driver is given."""
    column_type = table.c[key].type
    if conn.dialect.name != "postgresql":
        # The dialect's own type, as SQLAlchemy's statements bind it: a datetime becomes
        # SQLAlchemy's text on SQLite. The generic type left it to sqlite3's default
        # adapter, whose text drops ".000000" at a whole second, so the same instant
        # compared unequal to one the ORM wrote (and that adapter is deprecated).
        return column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    process = column_type.bind_processor(conn.dialect)
    if not isinstance(column_type, JSON):
        return process

    def for_copy(value: Any) -> Any:
        if process is not None:
            value = process(value)
        # psycopg adapts JSON only when wrapped; COPY's text format takes the JSON text.
        if isinstance(value, dict | list):
            return json_text(value)
        return value

    return for_copy


def _shared(table: Table, given: Sequence[str], same: Mapping[str, Any]) -> dict[str, Any]:
    """The values every row shares: `same`, then the Python-side defaults of columns not given."""
    shared = dict(same)
    for column in table.columns:
        if column.key in shared or column.key in given or column.default is None:
            continue
        arg = column.default.arg  # type: ignore[attr-defined]
        shared[column.key] = arg(None) if callable(arg) else arg
    return shared


def _tuples(
    conn: Connection,
    table: Table,
    order: Sequence[str],
    rows: Sequence[Any],
    shared: Mapping[str, Any],
    columns: Sequence[str] | None,
) -> list[tuple[Any, ...]]:
    """Return the rows as tuples of database values in `order`, a column at a time."""
    given = dict(zip(columns, zip(*rows, strict=True), strict=True)) if columns else None
    out: list[Sequence[Any]] = []
    for key in order:
        convert = _to_db(conn, table, key)
        if key in shared:
            value = shared[key] if convert is None else convert(shared[key])
            out.append([value] * len(rows))
        else:
            values = given[key] if given is not None else [row[key] for row in rows]
            out.append(values if convert is None else list(map(convert, values)))
    return list(zip(*out, strict=True))


def bulk_insert(
    model: Any,
    rows: Sequence[Any],
    *,
    same: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Insert rows plus the `same` values in the current transaction.

    Rows are mappings with the same keys, or tuples of the `columns` in order
    (no dict per row: evidence comes a million rows at a time).
    """
    if not rows:
        return
    conn = _connection()
    table = _table(model)
    given = list(columns) if columns else list(rows[0])
    shared = _shared(table, given, same or {})
    keys = [*given, *shared]
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{k}"' for k in keys)
        _copy(conn, table.name, names, _tuples(conn, table, keys, rows, shared, columns))
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    order = compiled.positiontup or keys
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        conn.exec_driver_sql(str(compiled), _tuples(conn, table, order, chunk, shared, columns))


def _copy(conn: Connection, name: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY ready rows into the table `name` (PostgreSQL)."""
    raw: Any = conn.connection.dbapi_connection  # psycopg's: it has COPY
    with raw.cursor() as cursor, cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


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
        _copy(conn, f"bulk_{table.name}", columns,
              _tuples(conn, table, ["id", *keys], rows, {}, None))  # fmt: skip
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
