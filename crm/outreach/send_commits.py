"""The commits of a send pass: one per message, its wait for the disk beside the SMTP talk.

A touch the server accepted is not committed as ``sent`` on its own. Its
record (touch ``sent``, timeline entry, later steps) is written into the
next transaction the pass commits, which in a stream of sends is the one
that takes the next touch to ``sending``. That transaction must reach the
disk before the next body goes out, and its commit runs on a helper thread
(crm.outreach.durability.DurableCommit) while the next SMTP conversation
starts. A message thus costs one commit instead of two, and its wait for
the disk overlaps the server's answers to MAIL FROM, RCPT TO and DATA.

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

    def begin_sending(self) -> Accepted | None:
        """Prepare the durable transaction that takes the next touch.

        Return the record the statement that takes the touch should carry
        (outbox.begin_sending's ``record``); start() writes any others.
        """
        self.durable.begin()
        return self.accepted[0] if self.accepted else None

    def start(self) -> None:
        """Add the other records to the durable transaction and start committing it."""
        # Written after the touch was taken, so that compare-and-set is the
        # transaction's first write, as when it was alone.
        self._write(self.accepted[1:])
        self.durable.start()
        self._committing, self.accepted = self.accepted, []

    def wait(self) -> None:
        """Wait until the durable transaction is on disk (re-raising its error)."""
        self.durable.wait()
        self._committing = []

    def abandon(self) -> None:
        """Roll back the durable transaction before it was started; records stay queued."""
        self.durable.rollback()

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
            self.accepted = self._committing + self.accepted
            self._committing = []
            if self.accepted:
                with contextlib.suppress(Exception):
                    self.abandon()
                    self.commit()
        finally:
            self.durable.close()

    def _write(self, records: list[Accepted]) -> None:
        # Idempotent: recording a touch that is already sent changes nothing.
        for record in records:
            outbox.record_accepted(record, self.holder)
