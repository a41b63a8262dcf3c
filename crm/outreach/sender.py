"""One pass of the sender (DESIGN §5): claim due touches, re-check each, send it at most once.

For every unpaused mailbox with due touches, over one SMTP connection:

1. claim a small batch of due touches (crm.outreach.outbox.claim_due) and commit;
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

At most once: ``sending`` is on disk before the first byte of the message
leaves (its commit waits for the disk; the pass's other commits do not, see
``_commit``), and only a touch in ``claimed`` can move to ``sending``. A process that
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
from crm.mail.smtp_outcome import SendOutcome, Stage
from crm.models import (
    BLOCKED_NOTE_PREFIX,
    Campaign,
    Enrollment,
    Mailbox,
    OneOffMessage,
    StopReason,
    Touch,
    TouchState,
    utcnow,
)
from crm.outreach import faults, one_offs, outbox, outgoing
from crm.outreach.context import best_evidence
from crm.outreach.gate import Decision, MailboxFacts, Reason, Verdict, decide
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.mailboxes import mailbox_smtp_settings
from crm.outreach.plan import step_offsets
from crm.outreach.send_outcomes import Applied, apply_outcome, touch_bounced
from crm.outreach.windows import SendingWindow, draw_jitter, resolve_timezone

log = logging.getLogger(__name__)

COUNT_KEYS = (
    "sent",
    "deferred",
    "retry",
    "failed",
    "bounced",
    "uncertain",
    "cancelled",
    "blocked",
    "mailboxes_paused",
    "recovered_uncertain",
    "requeued",
)

ANY_TIME = SendingWindow.parse("00:00-24:00", "mon,tue,wed,thu,fri,sat,sun")
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
    now: datetime | None = None,
    *,
    settings: SenderSettings | None = None,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Send what is due; return counts {"sent", "deferred", "failed", "uncertain", ...}.

    ``now`` fixes the clock for the whole pass (simulated time in tests);
    without it each decision reads the real clock.
    """
    faults.arm_from_environment()
    settings = settings or SenderSettings.from_config(current_app.config)
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    start = clock()
    recovered = outbox.recover_expired(start)
    _commit()
    counts["recovered_uncertain"] += recovered.uncertain
    counts["requeued"] += recovered.requeued
    holder = outbox.new_holder_id()
    with _relaxed_sqlite():
        for mailbox_id in outbox.due_mailbox_ids(start):
            MailboxPass(mailbox_id, holder, clock, settings, rng or random.Random(), counts).run()
    return dict(counts)


# Only the commit of ``sending`` must survive a power cut: were it lost, the touch
# would be back in the queue and could go out twice. Any other commit of the pass
# may be lost safely (a claim or deferral is redone; a lost result leaves
# ``sending``, which becomes ``uncertain``), so those do not wait for the disk:
# one disk sync per message instead of two.


def _sqlite() -> bool:
    return bool(db.session.get_bind().dialect.name == "sqlite")


def _synchronous(level: str) -> None:
    # SQLite takes this only between transactions; it lasts for the connection.
    driver = db.session.connection().connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA synchronous={level}")


def _commit() -> None:
    """Commit without waiting for the disk (see above)."""
    if not _sqlite():
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    db.session.commit()


@contextmanager
def _relaxed_sqlite() -> Iterator[None]:
    """Let SQLite commits skip the disk sync during the pass; restore the default after."""
    sqlite = _sqlite()
    db.session.commit()
    if sqlite:
        _synchronous("NORMAL")
    try:
        yield
    finally:
        db.session.rollback()
        if sqlite:
            _synchronous("FULL")


@contextmanager
def _on_disk() -> Iterator[None]:
    """Make the transaction inside, committed or rolled back there, wait for the disk."""
    sqlite = _sqlite()
    if sqlite:
        _synchronous("FULL")
    try:
        yield
    finally:
        if sqlite:
            db.session.rollback()  # nothing left open: the level changes between transactions
            _synchronous("NORMAL")


@dataclass
class MailboxPass:
    """One mailbox in one pass: one connection, batches of claimed touches."""

    mailbox_id: int
    holder: str
    clock: Callable[[], datetime]
    settings: SenderSettings
    rng: random.Random
    counts: Counter[str]
    stopped: bool = False
    passed_over: set[int] = field(default_factory=set)  # of what is being drained
    steps: dict[int, dict[int, outgoing.StepText]] = field(default_factory=dict)
    competitors: dict[int, list[str]] = field(default_factory=dict)

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
            self._pause(f"cannot read the mailbox password: {exc.message}")
            return
        with make_transport(self.settings.transport, settings) as transport:
            self._drain(transport, OneOffMessage, outbox.claim_one_offs, self._one_off)
            self._drain(transport, Touch, outbox.claim_due, self._touch)

    def _drain(
        self,
        transport: MailTransport,
        model: outbox.Outgoing,
        claim: Callable[..., list[int]],
        act: Callable[[MailTransport, int], None],
    ) -> None:
        """Claim batches until nothing is due; act on each message in due order."""
        # Given back still due (blocked, lost a race): not claimed again this pass.
        self.passed_over = passed_over = set[int]()
        while not self.stopped:
            ids = claim(
                self.mailbox_id,
                self.holder,
                self.clock(),
                limit=self.settings.batch,
                lease=self.settings.lease,
                exclude=passed_over,
            )
            _commit()
            if not ids:
                return
            faults.reached("after-claim")
            done = 0
            try:
                for message_id in ids:
                    if self.stopped:
                        break
                    act(transport, message_id)
                    done += 1
            finally:  # whatever happened, nothing of the batch stays claimed
                db.session.rollback()
                outbox.release(ids[done:], self.holder, model=model)
                _commit()

    def _touch(self, transport: MailTransport, touch_id: int) -> None:
        now = self.clock()
        row = outgoing.read_touch(touch_id)
        if row is None:  # the enrollment was deleted meanwhile (and its touches)
            return
        try:
            decision, message, slot = self._decide(row, now)
        except Exception as exc:  # a message that cannot be built: this touch only
            log.warning("touch %s blocked: %s", touch_id, exc, exc_info=True)
            db.session.rollback()
            decision, message = Decision(Verdict.BLOCK, Reason.TEMPLATE, detail=str(exc)), None
        if decision.verdict is not Verdict.SEND or message is None:
            self._not_now(touch_id, decision, Touch)
            if decision.verdict is Verdict.CANCEL:
                self._stop_enrollment(row, decision, now)
        else:
            self._send(transport, row, message, slot, now)

    def _decide(
        self, row: Row[Any], now: datetime
    ) -> tuple[Decision, outgoing.Message | None, outbox.MailboxSlot]:
        """Read the touch's facts, render its message and ask the gate."""
        mailbox = outgoing.read_mailbox_facts(self.mailbox_id, now)
        if mailbox is None:
            raise UserError("the mailbox was deleted")
        steps = self._steps(row.sequence_id)
        earlier = outgoing.read_earlier_steps(row)
        offsets = step_offsets([steps[p].day_offset for p in sorted(steps)], row.step)
        message: outgoing.Message | None = None
        problem: str | None = None
        try:
            message = outgoing.render_message(
                row,
                self._evidence(row),
                steps,
                earlier,
                self.sender,
                now,
                base_url=self.settings.base_url,
                secret=self.settings.secret,
            )
        except ValueError as exc:  # TemplateProblem, ComposeError: shown on the touch
            problem = str(exc)
        suppressed = outgoing.read_suppressed(row.email)
        facts = outgoing.touch_facts(row, suppressed, self.timezone, earlier, offsets, problem)
        jitter = draw_jitter(self.settings.max_jitter, self.rng)
        return decide(facts, mailbox, now, jitter), message, self._slot(mailbox)

    def _steps(self, sequence_id: int) -> dict[int, outgoing.StepText]:
        if sequence_id not in self.steps:
            self.steps[sequence_id] = outgoing.load_steps(sequence_id)
        return self.steps[sequence_id]

    def _evidence(self, row: Row[Any]) -> Any:
        if row.campaign_id not in self.competitors:
            campaign = db.session.get(Campaign, row.campaign_id)
            self.competitors[row.campaign_id] = campaign.competitor_domains if campaign else []
        found = best_evidence(
            [row.prospect_id], {row.prospect_id: self.competitors[row.campaign_id]}
        )
        return found.get(row.prospect_id)

    def _send(
        self,
        transport: MailTransport,
        row: Row[Any],
        message: outgoing.Message,
        slot: outbox.MailboxSlot,
        now: datetime,
    ) -> None:
        failure = transport.open()
        if failure is not None:  # the server cannot be used: nothing was taken
            self._apply(row, failure, row.attempts, now)
            return
        attempts = row.attempts + 1
        sending = outbox.Sending(
            touch_id=row.id,
            enrollment_id=row.enrollment_id,
            prospect_id=row.prospect_id,
            watch_from=row.watch_from,
            stop_all_on_reply=row.stop_all_on_reply,
            email=row.email,
            domain=outgoing.email_domain(row.email),
            attempts=attempts,
            subject=message.subject,
            body=message.body,
        )
        with _on_disk():
            problem = outbox.begin_sending(sending, slot, self.holder, now, self.settings.lease)
            db.session.commit() if problem is None else db.session.rollback()
        if problem is not None:
            self._lost(row.id, problem, Touch)
            return
        faults.reached("after-sending")
        outcome = transport.send(message.raw, message.rcpt_to, message.mail_from)
        if outcome.sent:
            faults.reached("after-accepted")
        elif outcome.stage in _NEVER_RECEIVED:
            outbox.give_back_slot(slot)  # the server never had the message
        self._apply(row, outcome, attempts, self.clock(), message.subject)

    def _apply(
        self, row: Row[Any], outcome: SendOutcome, attempts: int, now: datetime, subject: str = ""
    ) -> None:
        sent = self._sent_touch(row, subject)
        applied = apply_outcome(
            row.id,
            outcome,
            holder=self.holder,
            attempts=attempts,
            now=now,
            accepted=lambda reply: outbox.mark_sent(sent, self.holder, reply, now),
            bounced=lambda summary: touch_bounced(row, summary, now),
        )
        self._applied(applied)

    def _applied(self, applied: Applied) -> None:
        _commit()
        self.counts[applied.count] += 1
        if applied.pause_reason is not None:
            self._pause(applied.pause_reason, count=False)
        self.stopped = self.stopped or applied.stop_mailbox

    # -- one-off messages (crm.outreach.one_offs) ---------------------------

    def _one_off(self, transport: MailTransport, message_id: int) -> None:
        now = self.clock()
        message = db.session.get(OneOffMessage, message_id)
        if message is None:
            return
        try:
            mailbox = outgoing.read_mailbox_facts(self.mailbox_id, now)
            if mailbox is None:
                raise UserError("the mailbox was deleted")
            facts = one_offs.gate_facts(
                message, outgoing.read_suppressed(message.to_email), self.timezone
            )
            # No sending window: a person wrote it to go now.
            jitter = draw_jitter(self.settings.max_jitter, self.rng)
            decision = decide(facts, replace(mailbox, window=ANY_TIME), now, jitter)
            built = one_offs.build_message(
                message,
                self.sender,
                now,
                base_url=self.settings.base_url,
                secret=self.settings.secret,
            )
        except Exception as exc:  # a message that cannot be built: this one only
            log.warning("one-off message %s blocked: %s", message_id, exc, exc_info=True)
            db.session.rollback()
            decision = Decision(Verdict.BLOCK, Reason.TEMPLATE, detail=str(exc))
        if decision.verdict is not Verdict.SEND:
            self._not_now(message_id, decision, OneOffMessage)
            return
        failure = transport.open()
        if failure is not None:
            self._apply_one_off(message_id, message.to_email, failure, message.attempts, now)
            return
        assert mailbox is not None  # else blocked above
        slot = self._slot(mailbox)
        email = message.to_email
        with _on_disk():
            problem = outbox.begin_one_off(
                message_id, email, outgoing.email_domain(email), slot, self.holder, now,
                self.settings.lease,
            )  # fmt: skip
            db.session.commit() if problem is None else db.session.rollback()
        if problem is not None:
            self._lost(message_id, problem, OneOffMessage)
            return
        faults.reached("after-sending")
        outcome = transport.send(built.raw, built.rcpt_to, built.mail_from)
        if not outcome.sent and outcome.stage in _NEVER_RECEIVED:
            outbox.give_back_slot(slot)
        self._apply_one_off(message_id, email, outcome, message.attempts + 1, self.clock())

    def _apply_one_off(
        self, message_id: int, email: str, outcome: SendOutcome, attempts: int, now: datetime
    ) -> None:
        applied = apply_outcome(
            message_id,
            outcome,
            holder=self.holder,
            attempts=attempts,
            now=now,
            accepted=lambda reply: one_offs.mark_sent(message_id, self.holder, reply, now),
            bounced=lambda summary: one_offs.bounced(email, summary),
            model=OneOffMessage,
        )
        self._applied(applied)

    def _sent_touch(self, row: Row[Any], subject: str) -> outbox.SentTouch:
        steps = self._steps(row.sequence_id)
        offsets = step_offsets([steps[p].day_offset for p in sorted(steps)], row.step)
        return outbox.SentTouch(
            touch_id=row.id,
            enrollment_id=row.enrollment_id,
            prospect_id=row.prospect_id,
            step=row.step,
            last_step=len(offsets),
            email=row.email,
            subject=subject,
            message_id=row.message_id,
            offsets=offsets,
            tz=resolve_timezone(row.contact_tz or "", self.timezone),
            window=self.sender.window,
            prospect_status=row.prospect_status,
            next_due_at=row.next_due_at,
        )

    def _pause(self, reason: str, *, count: bool = True) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is not None:
            mailbox.paused = True
            mailbox.paused_reason = reason[:1000]
            _commit()
        if count:
            self.counts["mailboxes_paused"] += 1
        self.stopped = True

    def _slot(self, facts: MailboxFacts) -> outbox.MailboxSlot:
        return outbox.MailboxSlot(
            self.mailbox_id, facts.day_start, facts.daily_cap, facts.min_spacing
        )

    def _lost(self, message_id: int, problem: str, model: outbox.Outgoing) -> None:
        """Give back a message that may not be taken after all (nothing was taken)."""
        # Another sender got the mailbox's slot first, or the message was
        # cancelled, stopped or replied to since it was read. The next pass decides again.
        outbox.release([message_id], self.holder, model=model)
        _commit()
        self.passed_over.add(message_id)
        self.stopped = self.stopped or problem == "mailbox"

    def _not_now(self, message_id: int, decision: Decision, model: outbox.Outgoing) -> None:
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

    def _stop_enrollment(self, row: Row[Any], decision: Decision, now: datetime) -> None:
        stop = _STOP_FOR.get(decision.reason) if decision.reason else None
        enrollment = db.session.get(Enrollment, row.enrollment_id) if stop else None
        if stop is not None and enrollment is not None:
            stop_enrollment(enrollment, stop, now=now)
            _commit()
