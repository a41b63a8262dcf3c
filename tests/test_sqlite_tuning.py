"""SQLite connections of the app map the database file, which stays in WAL mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from crm import SQLITE_WAL_CHECKPOINT_PAGES


def test_every_sqlite_connection_maps_the_file(app: Flask, db: Any) -> None:
    assert db.engine.dialect.name == "sqlite"
    mapped = app.config["SQLITE_MMAP_BYTES"]
    assert mapped > 0
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            assert conn.execute(text("PRAGMA mmap_size")).scalar() == mapped


def test_a_sqlite_file_is_kept_in_wal_mode_so_pages_read_while_the_worker_writes(db: Any) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_writers_wait_for_the_workers_commits_and_every_commit_is_durable(db: Any) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 20_000
        # 2 = FULL: a sent touch's record survives power loss (email goes at most once).
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2


def test_a_locked_database_answers_503_try_again_not_500(
    app_config: dict[str, Any], team: dict[str, Any]
) -> None:
    import sqlite3

    from crm import create_app
    from tests.conftest import FormClient

    app = create_app({**app_config, "SQLITE_BUSY_TIMEOUT_SECONDS": 0.2})
    app.test_client_class = FormClient
    client = app.test_client()
    path = app_config["DATABASE_URL"].removeprefix("sqlite:///")
    with app.app_context():
        token = client.csrf_token("/login")
        worker = sqlite3.connect(path)
        worker.execute("BEGIN IMMEDIATE")  # the worker is committing a send
        try:
            response = client.post(
                "/login", data={"csrf_token": token, "email": "a@b.example", "password": "x"}
            )
        finally:
            worker.rollback()
            worker.close()
    assert response.status_code == 503
    assert "Try again" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_the_wal_is_copied_into_the_file_in_large_steps_not_after_every_import_batch(
    db: Any,
) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == (
            SQLITE_WAL_CHECKPOINT_PAGES
        )


def test_an_import_from_the_command_line_maps_none_of_the_file_into_its_memory(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    db.engine.dispose()  # the fixtures' connections were opened before the command
    sources = [f"{owner}={path}" for owner, path in exports.items()]
    result = app.test_cli_runner().invoke(args=["gap", "import", "Mine", *sources])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA mmap_size")).scalar() == 0
