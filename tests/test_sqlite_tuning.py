"""SQLite connections of the app map the database file, which stays in WAL mode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from crm import SQLITE_MMAP_BYTES


def test_every_sqlite_connection_maps_the_file(db: Any) -> None:
    assert db.engine.dialect.name == "sqlite"
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            assert conn.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES


def test_a_sqlite_file_is_kept_in_wal_mode_so_pages_read_while_the_worker_writes(db: Any) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
