"""One pass of the sender (DESIGN §5): claim due touches, re-check each, send it at most once.

For every unpaused mailbox with due messages, over one SMTP connection:

1. claim a small batch of due touches (crm.outreach.outbox.claim_due) and commit;
   read once for it the mailbox's pause, cap and spacing (counted on as the pass
   sends) and what the batch shares (crm.outreach.claimed_batch);
2. for each touch, in due order:
   a. read its facts fresh and render its message; decide with the gate
      (crm.outreach.gate): send now, later (defer), never (cancel) or not until
      a person acts (block). A message that cannot be built blocks its touch
      with the reason; it never stops the pass;
   b. commit ``sending``: a compare-and-set that checks again in the database
      what may have changed since (enrollment, replies, bounces, suppressions,
      the mailbox's pause, cap and spacing) and takes the mailbox's slot;
   c. send it over the connection;
   d. commit what the server's answer means (crm.outreach.send_outcomes).

One-off messages (crm.outreach.one_offs) go first, through the same steps.

At most once: ``sending`` is on disk before the first byte of the message
leaves, and only a touch in ``claimed`` can move to ``sending``. A process that
dies between (b) and (d) leaves ``sending``; when its lease expires the touch
becomes ``uncertain`` and is never sent again on its own. Concurrent passes
never share a touch: the claim skips rows another pass holds.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row, text

from crm.core.errors import UserError
from crm.extensions import db
from crm.mail.smtp import MailTransport, make_transport
from crm.mail.smtp_outcome import Stage
from crm.models import (
    BLOCKED_NOTE_PREFIX,
    Enrollment,
    Mailbox,
    OneOffMessage,
    StopReason,
    Touch,
    TouchState,
    utcnow,
)
from crm.outreach import claimed_batch, one_offs, outbox, outgoing
from crm.outreach.claimed_batch import ClaimedBatch
from crm.outreach.gate import Decision, MailboxFacts, Reason, Verdict, decide
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.mailbox_slots import MailboxSlot, give_back_slot
from crm.outreach.mailboxes import mailbox_smtp_settings
from crm.outreach.send_outcomes import apply_outcome, touch_bounced
from crm.outreach.sent_touches import mark_sent
from crm.outreach.windows import draw_jitter

log = logging.getLogger(__name__)

COUNT_KEYS = ("sent", "deferred", "retry", "failed", "bounced", "uncertain", "cancelled",
              "blocked", "mailboxes_paused", "recovered_uncertain", "requeued")  # fmt: skip
# Refused at these stages, the server never had the message: its slot is given back.
_NEVER_RECEIVED = frozenset({Stage.CONNECT, Stage.TLS, Stage.AUTH, Stage.MAIL, Stage.RCPT})
_STOP_FOR = {
    Reason.REPLIED: StopReason.REPLIED,
    Reason.BOUNCED: StopReason.BOUNCED,
    Reason.ADDRESS_SUPPRESSED: StopReason.UNSUBSCRIBED,
    Reason.DOMAIN_SUPPRESSED: StopReason.UNSUBSCRIBED,
}


@dataclass(frozen=True)
class SenderSettings:
    """How a pass sends; read from the app config (``CRM_<NAME>``)."""

    transport: str = "smtp"  # MAIL_TRANSPORT: smtp | memory
    smtp_timeout: float = 30.0  # SMTP_TIMEOUT seconds
    ca_file: str | None = None  # SMTP_CA_FILE: trust this CA too (a private CA)
    lease: timedelta = outbox.DEFAULT_LEASE  # SEND_LEASE_SECONDS
    batch: int = 100  # SEND_BATCH: touches claimed at a time per mailbox
    max_jitter: timedelta = timedelta(seconds=30)  # SEND_MAX_JITTER_SECONDS
    base_url: str = "http://127.0.0.1:5000"  # BASE_URL, for unsubscribe links
    secret: str = field(default="", repr=False)  # SECRET_KEY, signs unsubscribe links

    @classmethod
    def from_config(cls, config: Any) -> SenderSettings:
        jitter = config.get("SEND_MAX_JITTER_SECONDS")
        return cls(
            transport=str(config.get("MAIL_TRANSPORT") or "smtp"),
            smtp_timeout=float(config.get("SMTP_TIMEOUT") or 30),
            ca_file=config.get("SMTP_CA_FILE") or None,
            lease=timedelta(seconds=int(config.get("SEND_LEASE_SECONDS") or 600)),
            batch=int(config.get("SEND_BATCH") or 100),
            max_jitter=timedelta(seconds=float(30 if jitter in (None, "") else jitter)),
            base_url=str(config.get("BASE_URL") or "http://127.0.0.1:5000"),
            secret=str(config["SECRET_KEY"]),
        )


def job_send_due() -> dict[str, int]:
    """The `crm worker` job: one pass at the current time."""
    return run_send_pass()


def run_send_pass(
    now: datetime | None = None, *, settings: SenderSettings | None = None
) -> dict[str, int]:
    """Send what is due; return counts {"sent", "deferred", "failed", "uncertain", ...}.

    ``now`` fixes the clock for the whole pass (simulated time in tests);
    without it each decision reads the real clock.
    """
    settings = settings or SenderSettings.from_config(current_app.config)
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    start = clock()
    recovered = outbox.recover_expired(start)
    _commit()
    counts["recovered_uncertain"] += recovered.uncertain
    counts["requeued"] += recovered.requeued
    holder = outbox.new_holder_id()
    with _sqlite_sync("NORMAL", after="FULL"):  # commits skip the disk sync, see _commit
        for mailbox_id in outbox.due_mailbox_ids(start):
            MailboxPass(mailbox_id, holder, clock, settings, counts).run()
    return dict(counts)


# Only the commit of ``sending`` must survive a power cut: were it lost, the touch
# would be back in the queue and could go out twice. Any other commit of the pass
# may be lost safely (a claim or deferral is redone; a lost result leaves
# ``sending``, which becomes ``uncertain``), so those do not wait for the disk:
# one disk sync per message instead of two.
_NO_DISK_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def _commit() -> None:
    """Commit without waiting for the disk (see above)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(_NO_DISK_WAIT)
    db.session.commit()


@contextmanager
def _sqlite_sync(level: str, *, after: str) -> Iterator[None]:
    """Run the block with SQLite's disk sync at ``level``, then ``after`` (between transactions)."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        db.session.connection().exec_driver_sql(f"PRAGMA synchronous={level}")
    try:
        yield
    finally:
        db.session.rollback()  # nothing left open
        if sqlite:
            db.session.connection().exec_driver_sql(f"PRAGMA synchronous={after}")


@dataclass
class MailboxPass:
    """One mailbox in one pass: one connection, batches of claimed touches."""

    mailbox_id: int
    holder: str
    clock: Callable[[], datetime]
    settings: SenderSettings
    counts: Counter[str]
    rng: random.Random = field(default_factory=random.Random)  # the jitter's
    stopped: bool = False
    passed_over: set[int] = field(default_factory=set)  # of what is being drained
    transport: MailTransport = field(init=False)
    # Read per batch (see the module docstring); ``facts`` counts this pass's sends.
    facts: MailboxFacts = field(init=False)
    batch: ClaimedBatch = field(default_factory=ClaimedBatch)

    def run(self) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is None or mailbox.paused:
            return
        self.sender = outgoing.Sender(
            mailbox.id,
            mailbox.from_email,
            mailbox.from_name,
            outgoing.window(mailbox.window_start, mailbox.window_end, mailbox.days),
        )
        self.timezone = mailbox.timezone
        try:
            settings = mailbox_smtp_settings(
                mailbox,
                password=None,
                timeout=self.settings.smtp_timeout,
                ca_file=self.settings.ca_file,
            )
        except UserError as exc:  # the password cannot be decrypted
            self.counts["mailboxes_paused"] += 1
            self._pause(f"cannot read the mailbox password: {exc.message}")
            return
        with make_transport(self.settings.transport, settings) as self.transport:
            self._drain(OneOffMessage, outbox.claim_one_offs, self._send_one_offs)
            self._drain(Touch, outbox.claim_due, self._send_touches)

    def _drain(
        self,
        model: outbox.Outgoing,
        claim: Callable[..., list[int]],
        send: Callable[[list[int]], None],
    ) -> None:
        """Claim batches until nothing is due or the mailbox stops; send each batch."""
        self.passed_over = set()  # given back still due (blocked, lost a race): not claimed again
        while not self.stopped:
            facts = outgoing.read_mailbox_facts(self.mailbox_id, self.clock())
            if facts is None:  # the mailbox was deleted meanwhile
                return
            self.facts = facts
            ids = claim(
                self.mailbox_id,
                self.holder,
                self.clock(),
                limit=self.settings.batch,
                lease=self.settings.lease,
                exclude=self.passed_over,
            )
            _commit()
            if not ids:
                return
            try:
                send(ids)
            finally:  # whatever happened, nothing of the batch stays claimed
                db.session.rollback()
                outbox.release(ids, self.holder, model=model)
                _commit()

    def _send_one_offs(self, ids: list[int]) -> None:
        for message_id in ids:
            if not self.stopped:
                one_offs.send_one_off(self, message_id)

    def _send_touches(self, ids: list[int]) -> None:
        self.batch.read(ids)
        for touch_id in ids:
            if not self.stopped:
                self._send_touch(touch_id)

    def _send_touch(self, touch_id: int) -> None:
        now = self.clock()
        row = outgoing.read_touch(touch_id)
        if row is None:  # the enrollment was deleted meanwhile (and its touches)
            return
        try:
            steps, offsets = self.batch.steps_of(row)
            decision, message = self._decide(row, steps, offsets, now)
        except Exception as exc:  # a message that cannot be built: this touch only
            log.warning("touch %s blocked: %s", touch_id, exc, exc_info=True)
            db.session.rollback()
            decision, message = Decision(Verdict.BLOCK, Reason.TEMPLATE, detail=str(exc)), None
        if decision.verdict is not Verdict.SEND or message is None:
            self.not_now(touch_id, decision, Touch)
            if decision.verdict is Verdict.CANCEL:
                self._stop_enrollment(row, decision, now)
            return
        to_send = claimed_batch.touch_to_send(row, message)
        sent = claimed_batch.sent_touch(row, message, offsets, self.timezone, self.sender.window)
        self.send(
            touch_id,
            Touch,
            message,
            now,
            attempts=to_send.attempts,
            begin=lambda slot: outbox.begin_sending(
                to_send, slot, self.holder, now, self.settings.lease
            ),
            accepted=lambda reply, at: mark_sent(sent, self.holder, reply, at),
            bounced=lambda summary, at: touch_bounced(row, summary, at),
        )

    def _decide(
        self, row: Row[Any], steps: dict[int, outgoing.StepText], offsets: list[int], now: datetime
    ) -> tuple[Decision, outgoing.Message | None]:
        """Render the touch's message and ask the gate."""
        earlier = outgoing.read_earlier_steps(row)
        message: outgoing.Message | None = None
        problem: str | None = None
        try:
            message = outgoing.render_message(
                row,
                self.batch.evidence.get(row.prospect_id),
                steps,
                earlier,
                self.sender,
                now,
                base_url=self.settings.base_url,
                secret=self.settings.secret,
            )
        except ValueError as exc:  # TemplateProblem, ComposeError: shown on the touch
            problem = str(exc)
        suppressed = self.batch.suppressed
        facts = outgoing.touch_facts(row, suppressed, self.timezone, earlier, offsets, problem)
        jitter = draw_jitter(self.settings.max_jitter, self.rng)
        return decide(facts, self.facts, now, jitter), message

    def send(
        self,
        message_id: int,
        model: outbox.Outgoing,
        message: outgoing.Message,
        now: datetime,
        *,
        attempts: int,
        begin: Callable[[MailboxSlot], str | None],
        accepted: Callable[[str, datetime], object],
        bounced: Callable[[str, datetime], object],
    ) -> None:
        """Commit ``sending``, send the message, commit what the server's answer means.

        ``begin`` is the message's compare-and-set taking the mailbox's slot; a
        message it refuses is given back.
        """
        outcome = self.transport.open()  # None: connected; else nothing is taken
        if outcome is None:
            day, _ = outgoing.mailbox_day(now, self.timezone)
            facts = self.facts
            slot = MailboxSlot(self.mailbox_id, day, facts.daily_cap, facts.min_spacing)
            with _sqlite_sync("FULL", after="NORMAL"):  # on disk, on both databases
                problem = begin(slot)
                db.session.commit() if problem is None else db.session.rollback()
            if problem is not None:
                self._lost(message_id, problem, model)
                return
            self.facts = facts.after_send(now)
            outcome = self.transport.send(message.raw, message.rcpt_to, message.mail_from)
            if not outcome.sent and outcome.stage in _NEVER_RECEIVED:
                # The server never had the message: the day's slot is not used.
                give_back_slot(slot)
                self.facts = replace(self.facts, sent_today=self.facts.sent_today - 1)
        done = self.clock()
        applied = apply_outcome(
            message_id,
            outcome,
            holder=self.holder,
            attempts=attempts,
            now=done,
            accepted=lambda reply: accepted(reply, done),
            bounced=lambda summary: bounced(summary, done),
            model=model,
        )
        _commit()
        self.counts[applied.count] += 1
        if applied.pause_reason is not None:
            self._pause(applied.pause_reason)
        self.stopped = self.stopped or applied.stop_mailbox

    def not_now(self, message_id: int, decision: Decision, model: outbox.Outgoing) -> None:
        """Act on a gate verdict other than SEND: defer, cancel or block the message."""
        if decision.verdict is Verdict.DEFER:
            assert decision.until is not None
            until = decision.until.astimezone(UTC)
            note = f"{decision.detail}; next try {until:%Y-%m-%d %H:%M} UTC"
            outbox.defer(message_id, self.holder, until, note, model=model)
            self.counts["deferred"] += 1
        elif decision.verdict is Verdict.CANCEL:
            state, note = TouchState.CANCELLED, decision.detail
            outbox.finish(message_id, self.holder, state, note, model=model, claimed_by=None)
            self.counts["cancelled"] += 1
        else:
            note = f"{BLOCKED_NOTE_PREFIX}{decision.detail}"
            outbox.release([message_id], self.holder, note=note, model=model)
            self.passed_over.add(message_id)
            self.counts["blocked"] += 1
        _commit()
        self.stopped = self.stopped or decision.holds_mailbox

    def _lost(self, message_id: int, problem: str, model: outbox.Outgoing) -> None:
        """Give back a message that may not go after all (nothing was taken).

        Another sender took the mailbox's slot, or it was cancelled, stopped or
        replied to since it was read: the next pass decides again.
        """
        outbox.release([message_id], self.holder, model=model)
        _commit()
        self.passed_over.add(message_id)
        self.stopped = self.stopped or problem == "mailbox"

    def _pause(self, reason: str) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is not None:
            mailbox.paused, mailbox.paused_reason = True, reason[:1000]
            _commit()
        self.stopped = True

    def _stop_enrollment(self, row: Row[Any], decision: Decision, now: datetime) -> None:
        stop = _STOP_FOR.get(decision.reason) if decision.reason else None
        enrollment = db.session.get(Enrollment, row.enrollment_id) if stop else None
        if stop is not None and enrollment is not None:
            stop_enrollment(enrollment, stop, now=now)
            _commit()
