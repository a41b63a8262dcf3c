"""The commits of a send pass: one per message, its wait for the disk beside the SMTP talk.

A touch the server accepted is not committed as ``sent`` on its own. Its
record (touch ``sent``, timeline entry, later steps) is written into the
next transaction the pass commits, which in a stream of sends is the one
that takes the next touch to ``sending``. That transaction must reach the
disk before the next body goes out. Its last statement, the compare-and-set
that takes the touch (with the record), and its commit run on a helper
thread (crm.outreach.durability.DurableCommit) while the SMTP conversation
goes on: the sender learns after RCPT TO whether the touch was taken (if
not, it resets the transaction before DATA and nothing was committed) and
waits for the commit after the 354. A message thus costs one commit instead
of two, and neither its statement nor its wait for the disk holds up the
server's answers to MAIL FROM, RCPT TO and DATA.

Why the guarantees of DESIGN §5 still hold:

- At most once: ``sending`` is committed, on disk, before the body of its
  message is handed to the server (the sender waits for the commit after
  the 354). Only the ``sent`` record waits, and a lost ``sent`` is safe: a
  crash after the server's 250 and before the next commit leaves the touch
  ``sending``; when its lease expires it becomes ``uncertain`` and is never
  sent again on its own. That is what a crash between the 250 and the old
  separate ``sent`` commit did (that commit was never synced either).
- Promptly: the record waits for one step of the pass at most, and none of
  those steps waits for the network before it commits: the next send takes
  its touch as soon as MAIL FROM is written; a touch deferred, cancelled, blocked or given
  back, a refused message, a new batch's claim, a stopped mailbox and the
  end of the pass each commit at once, with the record. A follow-up of the
  same enrollment is checked only after the record is committed, so the
  gate sees its previous step sent.
- The timeline and the reply matcher read committed rows; they see a send
  at most one message (milliseconds) later than before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from crm.extensions import db
from crm.outreach import outbox
from crm.outreach.durability import DurableCommit
from crm.outreach.outbox import Accepted


class PassCommits:
    """Every commit of one mailbox's pass, with the accepted touches still to record."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        self.durable = DurableCommit()
        self.accepted: list[Accepted] = []
        self._committing: list[Accepted] = []  # written into the durable commit under way
        self._following: Accepted | None = None  # its after_sent waits for the statement

    def accept(self, sent: outbox.SentTouch, reply: str, at: datetime) -> None:
        """Remember a touch the server accepted; the next commit records it."""
        self.accepted.append(Accepted(sent, reply, at))

    def holds(self, enrollment_id: int) -> bool:
        """Say whether a send of this enrollment is accepted but not committed yet."""
        return any(a.sent.enrollment_id == enrollment_id for a in self.accepted)

    def commit(self) -> None:
        """Commit the session's transaction, with the accepted touches' records."""
        self.wait()
        self._write(self.accepted)
        db.session.commit()
        self.durable.relax()
        self.accepted.clear()

    def take(self, build: Callable[[Accepted | None], Callable[[], str | None]]) -> None:
        """Start the durable transaction that takes the next touch; return at once.

        ``build`` (outbox.begin_sending) is given the record its statement
        carries and returns that statement, which the helper thread runs and,
        when it finds no problem, commits; taken() gives its answer.
        """
        self.durable.begin()
        self._write(self.accepted[1:])
        first = self.accepted[0] if self.accepted else None
        # What follows from the record (pipeline, completion, moved follow-ups)
        # is written after the statement recorded it, before the commit.
        self._following = (
            first if first is not None and outbox.changes_more(first.sent, first.at) else None
        )
        self.durable.start(build(first), commit=self._following is None)
        self._committing, self.accepted = self.accepted, []

    def taken(self) -> str | None:
        """Wait for the statement that takes the touch; return its problem, or None.

        On a problem the transaction is rolled back and its records stay
        queued for the next commit. Otherwise it is committing (or, when a
        record had more to write, that is written and the commit started).
        """
        problem = self.durable.checked()
        if problem is not None:
            self.abandon()
            return problem
        following, self._following = self._following, None
        if following is not None:
            self.durable.wait()
            outbox.after_sent(following.sent, following.at)
            self.durable.start()
        return None

    def wait(self) -> None:
        """Wait until the durable transaction is on disk (re-raising its error)."""
        self.durable.wait()
        self._committing = []

    def abandon(self) -> None:
        """Roll back the durable transaction; records stay queued."""
        self.durable.rollback()
        self._requeue()

    def close(self, failed: bool) -> None:
        """Commit what is left and stop the helper thread.

        After a failure the records are saved if the database still takes
        them; if it does not, their touches stay ``sending`` and become
        ``uncertain``, which is honest, and the original error propagates.
        """
        try:
            if not failed:
                self.commit()
                return
            self._requeue()
            if self.accepted:
                with contextlib.suppress(Exception):
                    self.abandon()
                    self.commit()
        finally:
            self.durable.close()

    def _requeue(self) -> None:
        # Records of a transaction that was not committed wait for the next one.
        self.accepted = self._committing + self.accepted
        self._committing = []

    def _write(self, records: list[Accepted]) -> None:
        # Idempotent: recording a touch that is already sent changes nothing.
        for record in records:
            outbox.record_accepted(record, self.holder)
