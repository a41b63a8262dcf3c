"""How hard each commit of a send pass must reach the disk.

Only the commit of ``sending`` must survive a power cut: were it lost, the
touch would be back in the queue and could go out twice. Every other commit of
the sender may be lost safely: a lost ``sent`` leaves ``sending``, which turns
``uncertain`` (never sent again); a lost claim or deferral is simply redone.

So on SQLite the pass runs in WAL mode with ``synchronous=NORMAL`` and raises
it to ``FULL`` for the ``sending`` commit, whose sync also makes every earlier
commit durable (the log is written in order). On PostgreSQL the statement
that records a send turns ``synchronous_commit`` off for its own transaction
(crm.outreach.fast_path); PostgreSQL likewise never loses an asynchronous
commit without the ones after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from crm.extensions import db


def _dialect() -> str:
    return str(db.engine.dialect.name)


def _sqlite_file() -> bool:
    engine = db.engine
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def prefer_wal() -> None:
    """Put a SQLite database in WAL mode, so a commit appends to a log instead of a journal.

    WAL keeps commits durable and lets the web app read while the sender
    writes. The mode is stored in the database file, so this changes it once.
    """
    if not _sqlite_file():
        return
    try:
        mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
        if str(mode).lower() != "wal":
            db.session.execute(text("PRAGMA journal_mode=WAL"))
        db.session.commit()
    except OperationalError:  # another connection is busy: try again next pass
        db.session.rollback()


def _synchronous(level: str) -> None:
    # Outside a write transaction only (SQLite refuses the change inside one).
    # Straight to the driver: this runs twice per message on the hot path.
    db.session.connection().connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA synchronous={level}"
    )


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """Run a pass whose commits need not be synced, except those made with durable_commit."""
    sqlite = _sqlite_file()
    if sqlite:
        db.session.commit()
        _synchronous("NORMAL")
    try:
        yield
    finally:
        if sqlite:
            db.session.rollback()
            _synchronous("FULL")
            db.session.commit()


def before_durable_write() -> None:
    """Call before the first write of a transaction that durable_commit will end."""
    if _sqlite_file():
        _synchronous("FULL")


def durable_commit() -> None:
    """Commit and make sure it is on disk (and everything committed before it)."""
    db.session.commit()
    if _sqlite_file():
        _synchronous("NORMAL")
