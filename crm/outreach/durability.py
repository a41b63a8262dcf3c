"""How hard each commit of a send pass must reach the disk, and when it may wait for it.

Only the commit of ``sending`` must survive a power cut: were it lost, the
touch would be back in the queue and could go out twice. Every other commit of
the sender may be lost safely: a lost ``sent`` leaves ``sending``, which turns
``uncertain`` (never sent again); a lost claim or deferral is simply redone.

So on SQLite the pass runs in WAL mode with ``synchronous=NORMAL`` and raises
it to ``FULL`` for the transactions that take a touch to ``sending`` (and
keeps it there while the sends follow one another), whose sync also makes
every earlier commit durable (the log is written in order). On PostgreSQL
every commit of the pass is synchronous.

The durable commit is the one wait for the disk per message. ``DurableCommit``
runs it, after the statement that takes the touch, on a helper thread while
the SMTP conversation goes on (MAIL FROM, RCPT TO, DATA) and the sender
waits for it before the first byte of the message itself: the body still
never leaves before ``sending`` is on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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


def _driver_connection() -> Any:
    return db.session.connection().connection.driver_connection


def _synchronous(level: str) -> None:
    # Outside a write transaction only (SQLite refuses the change inside one).
    # Straight to the driver: the sender may switch around every message.
    _driver_connection().execute(f"PRAGMA synchronous={level}")


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """Run a pass whose commits need not be synced, except those made with DurableCommit."""
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


class _Committer:
    """A helper thread that runs one transaction's last statement and commits it.

    A job is a connection and, optionally, the statement that decides whether
    the transaction may commit (``work``: returns a problem, or None to
    commit). The sender learns the decision (``checked``) as soon as it is
    made and waits for the commit (``wait``) later. Plain locks rather than an
    executor: the handover runs for every message, and the less Python the
    helper runs, the less it holds the interpreter while the sender talks to
    the SMTP server.
    """

    def __init__(self) -> None:
        self._go = threading.Lock()
        self._checked = threading.Lock()
        self._done = threading.Lock()
        for lock in (self._go, self._checked, self._done):
            lock.acquire()
        self._connection: Any = None
        self._work: Callable[[], str | None] | None = None
        self._commit = True
        self._problem: str | None = None
        self._work_error: BaseException | None = None
        self._error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="crm-commit", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            if self._stop:
                return
            problem: str | None = None
            try:
                problem = self._work() if self._work is not None else None
            except BaseException as exc:  # handed to the sender; nothing is committed
                self._work_error = exc
            self._problem = problem
            self._checked.release()
            if problem is None and self._work_error is None and self._commit:
                try:
                    self._connection.commit()
                except BaseException as exc:  # handed to the waiting sender
                    self._error = exc
            self._connection = self._work = None
            self._done.release()

    def start(
        self, connection: Any, work: Callable[[], str | None] | None = None, commit: bool = True
    ) -> None:
        self._connection = connection
        self._work = work
        self._commit = commit
        self._go.release()

    def checked(self) -> str | None:
        """Wait for the job's statement; return its problem or re-raise its error."""
        self._checked.acquire()
        problem, self._problem = self._problem, None
        error, self._work_error = self._work_error, None
        if error is not None:
            raise error
        return problem

    def wait(self) -> None:
        """Wait for the job's end (checked() must have been called); re-raise a commit error."""
        self._done.acquire()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def stop(self) -> None:
        self._stop = True
        self._go.release()
        self._thread.join()


class DurableCommit:
    """Commit the session's transaction durably on a helper thread, and wait for it later.

    Use: ``begin()`` before the transaction's first write, the writes, then
    ``start()``, optionally with the statement that decides whether the
    transaction may commit at all (``work``, run on the helper thread too: it
    must use the connection it was built with, not the session);
    ``checked()`` for that statement's answer (on a problem nothing is
    committed and the caller rolls back); ``wait()`` before anything that must
    follow the commit (the message's body) and before the session is used
    again. Between ``start`` and ``checked``/``wait`` the caller must not
    touch the session or its connection: the helper thread owns it. The
    commit goes straight to the driver's connection, so the session's own
    transaction stays open (and its objects unexpired) across these commits;
    later statements start a new database transaction on the same
    connection, and the session's commit commits them.

    On SQLite ``synchronous=FULL`` stays on from one durable commit to the
    next (a stream of sends changes nothing); ``relax()`` after any other
    commit goes back to ``NORMAL``.
    """

    def __init__(self) -> None:
        self._sqlite = _sqlite_file()
        # An in-memory SQLite database has nothing to wait for, and its
        # connection may not be used from another thread: commit in place.
        self._in_place = _dialect() == "sqlite" and not self._sqlite
        self._committer: _Committer | None = None
        self._running = False
        self._unchecked = False  # started, and its answer not read yet
        self._problem: str | None = None  # in place: the answer of the last work
        self._full = False  # synchronous=FULL is in force on the connection

    def begin(self) -> None:
        """Prepare the connection for a durable transaction (no write may be pending)."""
        self.wait()
        if self._sqlite and not self._full:
            _synchronous("FULL")
            self._full = True

    def start(self, work: Callable[[], str | None] | None = None, *, commit: bool = True) -> None:
        """Start running ``work`` and committing the transaction unless it objects; return.

        With ``commit=False`` only ``work`` runs: the caller writes more once
        ``checked()`` answered, and starts again to commit.
        """
        self.wait()
        db.session.flush()
        connection = _driver_connection()
        if self._in_place:
            self._problem = work() if work is not None else None
            if self._problem is None and commit:
                connection.commit()
            return
        if self._committer is None:
            self._committer = _Committer()
        self._committer.start(connection, work, commit)
        self._running = self._unchecked = True

    def checked(self) -> str | None:
        """Return the problem ``work`` found (nothing is committed then), or None."""
        if self._in_place:
            problem, self._problem = self._problem, None
            return problem
        if not self._unchecked:
            return None
        self._unchecked = False
        assert self._committer is not None
        try:
            return self._committer.checked()
        except BaseException:
            self._running = False
            self._committer.wait()
            raise

    def wait(self) -> None:
        """Wait until the commit started last is on disk; re-raise its error."""
        if self._running:
            if self._unchecked:
                self.checked()
            self._running = False
            assert self._committer is not None
            self._committer.wait()

    def relax(self) -> None:
        """Let later commits skip the sync again (call between transactions)."""
        if self._full:
            _synchronous("NORMAL")
            self._full = False

    def rollback(self) -> None:
        """Roll back the session's transaction (its writes were not committed yet)."""
        self.wait()
        db.session.rollback()

    def close(self) -> None:
        """Wait for the last commit and stop the helper thread."""
        try:
            self.wait()
        finally:
            if self._committer is not None:
                self._committer.stop()
                self._committer = None
