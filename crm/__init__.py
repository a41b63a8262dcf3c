"""Linkgap: a self-hosted outreach CRM for link-building teams."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application; never starts a scheduler (that is `crm worker`)."""
    app = Flask(
        __name__,
        instance_path=str((config or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    register_config(app, config)
    register_proxies(app)
    register_extensions(app)
    register_access_control(app)
    register_blueprints(app)
    register_error_pages(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    from crm.config import load_config

    app.config.update(load_config(Path(app.instance_path), overrides))


def register_proxies(app: Flask) -> None:
    from crm.web.auth_security import trust_proxies

    trust_proxies(app)


# Pages the WAL may hold before a commit copies them into the database file.
SQLITE_WAL_CHECKPOINT_PAGES = 20_000


def _map_sqlite_file(app: Flask) -> Any:
    """Return a connect hook that maps as much of the file as SQLITE_MMAP_BYTES says."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA mmap_size={int(app.config['SQLITE_MMAP_BYTES'])}")

    return on_connect


def _sqlite_durability(busy_timeout_ms: int) -> Any:
    """Return a connect hook: wait for the worker's commits, and make every commit durable."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # WAL's default (NORMAL) can lose the last commits on power loss; a sent touch's
        # record must survive it, or the worker would send that email again.
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    return on_connect


def _prefer_wal(dbapi_connection: Any, _record: Any) -> None:
    """Keep a SQLite file in WAL mode: pages read while the worker writes (sends, polls).

    The mode is stored in the file, so only the first connection changes it; a
    database another process holds locked is left as it is until the next one.
    """
    with contextlib.suppress(sqlite3.OperationalError):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
    # A gap import commits every few thousand domains, each commit dirtying pages all
    # over the prospects' indexes; checkpointing the WAL into the file after every one
    # (SQLite's default: past 1,000 pages) copied the same pages again and again.
    # Measured: the 309 commits of an 800,000-domain import took 20 s, now 10 s; the
    # WAL grows to 80 MB.
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_PAGES}")


def register_extensions(app: Flask) -> None:
    from sqlalchemy import event

    from crm.config import make_private_file
    from crm.extensions import csrf, db, login_manager, migrate
    from crm.web.auth_limits import init_failure_store
    from crm.web.auth_security import load_user

    db.init_app(app)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        busy_ms = int(float(app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]) * 1000)
        event.listen(engine, "connect", _sqlite_durability(busy_ms))
        event.listen(engine, "connect", _map_sqlite_file(app))
        if engine.url.database not in (None, "", ":memory:"):
            make_private_file(Path(engine.url.database))
            event.listen(engine, "connect", _prefer_wal)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    init_failure_store(app)
    login_manager.user_loader(load_user)


def register_access_control(app: Flask) -> None:
    from crm.web.access import enforce_access
    from crm.web.auth_security import limit_anonymous_body
    from crm.web.input_guards import refuse_nul_characters

    # First of all hooks, ahead of CSRFProtect's (which reads the form): an anonymous
    # request is capped and sent to sign in before anything parses its body.
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[:0] = [limit_anonymous_body, enforce_access, refuse_nul_characters]


def register_blueprints(app: Flask) -> None:
    from crm.web import register_all

    register_all(app)


def register_error_pages(app: Flask) -> None:
    from crm.web.errors import register_error_handlers

    register_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    from crm.web.helpers import register_helpers

    register_helpers(app)


def register_security_headers(app: Flask) -> None:
    from crm.web.auth_security import add_hsts
    from crm.web.helpers import add_security_headers

    app.after_request(add_security_headers)
    app.after_request(add_hsts)


def register_commands(app: Flask) -> None:
    from crm.cli import register_cli

    register_cli(app)
