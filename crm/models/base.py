"""Column types and helpers shared by every model."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ARRAY, DateTime, Dialect, Enum, TypeDecorator, any_, bindparam
from sqlalchemy.sql.elements import ColumnElement


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def in_list(column: Any, name: str, postgres: bool) -> ColumnElement[bool]:
    """Return "column IN (:name...)" for a list parameter; one array on PostgreSQL.

    An expanding IN puts one placeholder per value in the SQL text: for the
    sender's batches (hundreds of ids) rendering and parsing those cost more
    than the query. PostgreSQL takes the list as one array (``= ANY``).
    """
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zones: naive values read back are UTC by construction,
    because naive values are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """Store an enum by its value as a plain string (new values need no DDL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def enum_values(enum_cls: type[enum.Enum]) -> list[Any]:
    return [m.value for m in enum_cls]
