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
leaves, and only a touch in ``claimed`` can move to ``sending``. A process that
dies between (b) and (d) leaves ``sending``; when its lease expires the touch
becomes ``uncertain`` and is never sent again on its own. Concurrent passes
never share a touch: the claim skips rows another pass holds.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row

from crm.core.errors import UserError
from crm.extensions import db
from crm.mail.smtp import MailTransport, make_transport
from crm.mail.smtp_outcome import SendOutcome, Stage
from crm.models import Campaign, Enrollment, Mailbox, StopReason, TouchState, utcnow
from crm.outreach import faults, outbox, outgoing
from crm.outreach.context import best_evidence
from crm.outreach.gate import Decision, Reason, Verdict, decide
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.mailboxes import mailbox_smtp_settings
from crm.outreach.plan import step_offsets
from crm.outreach.send_outcomes import apply_outcome
from crm.outreach.windows import draw_jitter, resolve_timezone

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
    db.session.commit()
    counts["recovered_uncertain"] += recovered.uncertain
    counts["requeued"] += recovered.requeued
    holder = outbox.new_holder_id()
    for mailbox_id in outbox.due_mailbox_ids(start):
        MailboxPass(mailbox_id, holder, clock, settings, rng or random.Random(), counts).run()
    db.session.commit()
    return dict(counts)


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
    # Touches given back still due (blocked, lost a race): not claimed again this pass.
    passed_over: set[int] = field(default_factory=set)
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
            while not self.stopped:
                ids = outbox.claim_due(
                    self.mailbox_id,
                    self.holder,
                    self.clock(),
                    limit=self.settings.batch,
                    lease=self.settings.lease,
                    exclude=self.passed_over,
                )
                db.session.commit()
                if not ids:
                    break
                faults.reached("after-claim")
                self._batch(transport, ids)

    def _batch(self, transport: MailTransport, ids: Sequence[int]) -> None:
        """Act on each claimed touch in due order; give back what is left when stopping."""
        done = 0
        try:
            for touch_id in ids:
                if self.stopped:
                    break
                self._touch(transport, touch_id)
                done += 1
        finally:
            db.session.rollback()
            outbox.release(ids[done:], self.holder)
            db.session.commit()

    def _touch(self, transport: MailTransport, touch_id: int) -> None:
        now = self.clock()
        row = outgoing.read_touch(touch_id)
        if row is None:  # the enrollment was deleted meanwhile (and its touches)
            return
        try:
            decision, message, attempts = self._decide(row, now)
        except Exception as exc:  # a message that cannot be built: this touch only
            log.warning("touch %s blocked: %s", touch_id, exc, exc_info=True)
            db.session.rollback()
            self._block(row, Decision(Verdict.BLOCK, Reason.TEMPLATE, detail=str(exc)))
            return
        if decision.verdict is Verdict.DEFER:
            self._defer(row, decision)
        elif decision.verdict is Verdict.CANCEL:
            self._cancel(row, decision, now)
        elif decision.verdict is Verdict.BLOCK or message is None:
            self._block(row, decision)
        else:
            self._send(transport, row, message, attempts, now)

    def _decide(
        self, row: Row[Any], now: datetime
    ) -> tuple[Decision, outgoing.Message | None, int]:
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
        return decide(facts, mailbox, now, jitter), message, row.attempts + 1

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
        attempts: int,
        now: datetime,
    ) -> None:
        failure = transport.open()
        if failure is not None:  # the server cannot be used: nothing was taken
            self._apply(row, failure, row.attempts, now)
            return
        day_start, _ = outgoing.mailbox_day(now, self.timezone)
        facts = outgoing.read_mailbox_facts(self.mailbox_id, now)
        assert facts is not None
        slot = outbox.MailboxSlot(self.mailbox_id, day_start, facts.daily_cap, facts.min_spacing)
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
        problem = outbox.begin_sending(sending, slot, self.holder, now, self.settings.lease)
        if problem is not None:
            # Another sender got the mailbox's slot first, or the touch was
            # cancelled, stopped or replied to since it was read: nothing is
            # taken. Give it back; the next pass decides again.
            db.session.rollback()
            outbox.release([row.id], self.holder)
            db.session.commit()
            self.passed_over.add(row.id)
            self.stopped = self.stopped or problem == "mailbox"
            return
        db.session.commit()
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
        applied = apply_outcome(
            row,
            outcome,
            holder=self.holder,
            attempts=attempts,
            now=now,
            sent=self._sent_touch(row, subject),
        )
        db.session.commit()
        self.counts[applied.count] += 1
        if applied.pause_reason is not None:
            self._pause(applied.pause_reason, count=False)
        self.stopped = self.stopped or applied.stop_mailbox

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
        )

    def _pause(self, reason: str, *, count: bool = True) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is not None:
            mailbox.paused = True
            mailbox.paused_reason = reason[:1000]
            db.session.commit()
        if count:
            self.counts["mailboxes_paused"] += 1
        self.stopped = True

    def _defer(self, row: Row[Any], decision: Decision) -> None:
        assert decision.until is not None
        until = decision.until.astimezone(UTC)
        note = f"{decision.detail}; next try {until:%Y-%m-%d %H:%M} UTC"
        outbox.defer(row.id, self.holder, until, note)
        db.session.commit()
        self.counts["deferred"] += 1
        self.stopped = self.stopped or decision.holds_mailbox

    def _cancel(self, row: Row[Any], decision: Decision, now: datetime) -> None:
        outbox.finish(row.id, self.holder, TouchState.CANCELLED, decision.detail, claimed_by=None)
        stop = _STOP_FOR.get(decision.reason) if decision.reason else None
        enrollment = db.session.get(Enrollment, row.enrollment_id) if stop else None
        if stop is not None and enrollment is not None:
            stop_enrollment(enrollment, stop, now=now)
        db.session.commit()
        self.counts["cancelled"] += 1

    def _block(self, row: Row[Any], decision: Decision) -> None:
        outbox.release([row.id], self.holder, note=f"blocked: {decision.detail}")
        db.session.commit()
        self.passed_over.add(row.id)
        self.counts["blocked"] += 1
        self.stopped = self.stopped or decision.holds_mailbox
