"""One pass of the sender (DESIGN §5): claim due touches, re-check, render, send, record.

Per mailbox with due touches: one transport connection for the whole pass;
touches are claimed in batches with a lease; before each send every gate rule
is checked again with facts read fresh from the database (enrollment state,
replies and bounces since enrollment, suppressions, mailbox pause, window in
the contact's timezone, daily cap in the mailbox's day, spacing plus
jitter); the templates are rendered at that moment. ``sending`` is committed
when the server waits for the message and ``sent`` after its 250 (see
crm.outreach.outbox). Every SMTP answer has one consequence:

- 250: sent; a touchpoint on the prospect's timeline; the prospect moves to
  "in sequence"; later steps keep their gaps after this send;
- 4xx: retry_wait with backoff (same Message-ID); given up after the last;
- 5xx for the recipient: hard bounce, the address suppressed, the contact
  marked bounced, the enrollment stopped;
- 5.7.x / authentication / TLS: the mailbox paused with the reason, the touch
  back in the queue, nothing suppressed;
- a connection lost after the message went out: uncertain.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Boolean, Integer, Row, String, bindparam, func, or_, select, text
from sqlalchemy.exc import OperationalError

from crm.core.errors import UserError
from crm.core.suppression import suppress
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.mail.compose import ComposeError, OutgoingEmail, compose_bytes, reply_subject
from crm.mail.smtp import MailTransport, Security, SmtpSettings, make_transport
from crm.mail.smtp_outcome import OutcomeKind, SendOutcome, Stage, retry_delay
from crm.mail.unsubscribe import make_unsubscribe_token, unsubscribe_url
from crm.models import (
    Campaign,
    Contact,
    Enrollment,
    InboundKind,
    InboundMessage,
    Mailbox,
    Prospect,
    SequenceStep,
    Site,
    StopReason,
    Suppression,
    TargetPage,
    Touch,
    TouchpointKind,
    TouchState,
    utcnow,
)
from crm.outreach import faults, outbox
from crm.outreach.enrollment import best_evidence, merge_context, stop_enrollment
from crm.outreach.gate import Decision, MailboxFacts, Reason, TouchFacts, Verdict, decide
from crm.outreach.plan import follow_up_not_before
from crm.outreach.templates import TemplateProblem, render_body, render_subject
from crm.outreach.windows import SendingWindow, draw_jitter, first_instant_at, resolve_timezone

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
_STOP_FOR = {
    Reason.REPLIED: StopReason.REPLIED,
    Reason.BOUNCED: StopReason.BOUNCED,
    Reason.ADDRESS_SUPPRESSED: StopReason.UNSUBSCRIBED,
    Reason.DOMAIN_SUPPRESSED: StopReason.UNSUBSCRIBED,
}
# Touches still on their way: a follow-up waits for them.
_PENDING = {
    TouchState.SCHEDULED,
    TouchState.CLAIMED,
    TouchState.SENDING,
    TouchState.RETRY_WAIT,
    TouchState.UNCERTAIN,
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
    secret: str = ""  # SECRET_KEY, signs unsubscribe links

    @classmethod
    def from_config(cls, config: Any) -> SenderSettings:
        return cls(
            transport=str(config.get("MAIL_TRANSPORT") or "smtp"),
            smtp_timeout=float(config.get("SMTP_TIMEOUT") or 30),
            ca_file=config.get("SMTP_CA_FILE") or None,
            lease=timedelta(seconds=int(config.get("SEND_LEASE_SECONDS") or 600)),
            batch=int(config.get("SEND_BATCH") or 100),
            max_jitter=timedelta(seconds=float(config.get("SEND_MAX_JITTER_SECONDS") or 0)),
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
    _prefer_wal()
    start = clock()
    recovered = outbox.recover_expired(start)
    db.session.commit()
    counts["recovered_uncertain"] += recovered.uncertain
    counts["requeued"] += recovered.requeued
    holder = outbox.new_holder_id()
    for mailbox_id in outbox.due_mailbox_ids(start):
        _MailboxPass(mailbox_id, holder, clock, settings, rng or random.Random(), counts).run()
    db.session.commit()
    return dict(counts)


def _prefer_wal() -> None:
    """Put a SQLite database in WAL mode: a commit then costs one short write, not a journal.

    The outbox commits twice per message; in rollback-journal mode each commit
    syncs a journal file and the database (milliseconds each). WAL keeps
    commits durable and lets the web app read while the sender writes. The
    mode is stored in the database file, so this runs once.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    try:
        mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
        if str(mode).lower() != "wal":
            db.session.execute(text("PRAGMA journal_mode=WAL"))
        db.session.commit()
    except OperationalError:  # another connection is busy: try again next pass
        db.session.rollback()


# ---------------------------------------------------------------------------
# Statements, built once with bound parameters so each touch only executes them


@lru_cache(maxsize=1)
def _batch_query() -> Any:
    return (
        select(
            Touch.id,
            Touch.enrollment_id,
            Touch.step,
            Touch.message_id,
            Touch.due_at,
            Touch.attempts,
            Enrollment.prospect_id,
            Enrollment.contact_id,
            Enrollment.sequence_id,
            Enrollment.created_at.label("watch_from"),
            Contact.email,
            Contact.first_name,
            Contact.last_name,
            Contact.role,
            Contact.timezone.label("contact_tz"),
            Prospect.domain,
            Prospect.link_type,
            Prospect.status.label("prospect_status"),
            Prospect.campaign_id,
            TargetPage.id.label("target_id"),
            TargetPage.url.label("target_url"),
            TargetPage.title.label("target_title"),
            TargetPage.pitch.label("target_pitch"),
            Campaign.name.label("campaign_name"),
            Campaign.stop_all_on_reply,
            Site.domain.label("site"),
        )
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .join(Campaign, Campaign.id == Prospect.campaign_id)
        .join(Site, Site.id == Campaign.site_id)
        .outerjoin(TargetPage, TargetPage.id == Prospect.target_page_id)
        .where(Touch.id.in_(bindparam("ids", expanding=True)))
        .order_by(Touch.due_at, Touch.id)
    )


@lru_cache(maxsize=1)
def _facts_query() -> Any:
    """Everything the gate must see fresh, in one round trip."""
    e = bindparam("enrollment_id", type_=Integer)
    p = bindparam("prospect_id", type_=Integer)
    email, domain = bindparam("email", type_=String), bindparam("domain", type_=String)
    stop_all = bindparam("stop_all", type_=Boolean)
    last_reply = (
        select(func.max(InboundMessage.received_at))
        .where(InboundMessage.prospect_id == p, InboundMessage.kind == InboundKind.HUMAN_REPLY)
        .where(or_(InboundMessage.enrollment_id == e, stop_all))
        .scalar_subquery()
    )
    last_bounce = (
        select(func.max(InboundMessage.received_at))
        .where(InboundMessage.prospect_id == p, InboundMessage.kind == InboundKind.BOUNCE_HARD)
        .where(or_(InboundMessage.enrollment_id == e, InboundMessage.bounce_recipient == email))
        .scalar_subquery()
    )
    address_blocked = select(Suppression.id).where(Suppression.value == email).exists()
    domain_blocked = select(Suppression.id).where(Suppression.value == domain).exists()
    return (
        select(
            Enrollment.state,
            Contact.bounced_at,
            Mailbox.paused,
            Mailbox.paused_reason,
            Mailbox.last_sent_at,
            Mailbox.cap_day_start,
            Mailbox.cap_day_sent,
            Mailbox.daily_cap,
            Mailbox.min_spacing_seconds,
            Mailbox.window_start,
            Mailbox.window_end,
            Mailbox.days,
            Mailbox.timezone,
            last_reply.label("last_reply_at"),
            last_bounce.label("last_bounce_at"),
            address_blocked.label("address_suppressed"),
            domain_blocked.label("domain_suppressed"),
        )
        .select_from(Enrollment)
        .join(Mailbox, Mailbox.id == Enrollment.mailbox_id)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .where(Enrollment.id == e)
    )


@lru_cache(maxsize=1)
def _earlier_steps_query() -> Any:
    return (
        select(Touch.step, Touch.state, Touch.sent_at, Touch.message_id, Touch.subject)
        .where(Touch.enrollment_id == bindparam("enrollment_id"), Touch.step < bindparam("step"))
        .order_by(Touch.step)
    )


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return resolve_timezone(None, name)


@lru_cache(maxsize=1024)
def _contact_zone(contact_tz: str, mailbox_tz: str) -> ZoneInfo:
    return resolve_timezone(contact_tz, mailbox_tz)


@lru_cache(maxsize=256)
def _window(start: str, end: str, days: str) -> SendingWindow:
    return SendingWindow.parse(f"{start}-{end}", days)


@lru_cache(maxsize=4096)
def _email_domain(email: str) -> str:
    from crm.gap.domains import DomainError, registrable_domain

    host = email.rsplit("@", 1)[-1]
    try:
        return registrable_domain(host)
    except DomainError:
        return host.lower()


@lru_cache(maxsize=256)
def _day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    tz = _zone(tz_name)
    return first_instant_at(day, time(0), tz), first_instant_at(
        day + timedelta(days=1), time(0), tz
    )


def _mailbox_day(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """Return the UTC bounds of the mailbox's local day containing now (its cap's day)."""
    return _day_bounds(now.astimezone(_zone(tz_name)).date(), tz_name)


# ---------------------------------------------------------------------------
# One mailbox in one pass


class _NotSending(Exception):
    """Raised inside DATA when the touch may not go out after all (the server discards it)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class _Rendered:
    subject: str  # the Subject header as sent
    body: str
    raw: bytes


@dataclass
class _MailboxPass:
    mailbox_id: int
    holder: str
    clock: Callable[[], datetime]
    settings: SenderSettings
    rng: random.Random
    counts: Counter[str]
    stopped: bool = False
    # Touches given back still due (blocked): not claimed again in this pass.
    passed_over: set[int] = field(default_factory=set)
    steps: dict[int, dict[int, SequenceStep]] = field(default_factory=dict)
    mailbox: Mailbox | None = None

    def run(self) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is None or mailbox.paused:
            return
        db.session.refresh(mailbox)
        self.mailbox = mailbox
        if self._mailbox_waits(mailbox):
            return
        try:
            transport = self._transport(mailbox)
        except UserError as exc:  # the password cannot be decrypted
            self._pause(f"cannot read the mailbox password: {exc.message}")
            return
        with transport:
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
                rows = db.session.execute(_batch_query(), {"ids": ids}).all()
                evidence = self._evidence(rows)
                for index, row in enumerate(rows):
                    if self.stopped:
                        outbox.release([r.id for r in rows[index:]], self.holder)
                        db.session.commit()
                        break
                    self._one(transport, row, evidence.get(row.prospect_id))

    def _mailbox_waits(self, mailbox: Mailbox) -> bool:
        """Say whether the mailbox is full for the day or must wait for its spacing."""
        now = self.clock()
        day_start, _ = _mailbox_day(now, mailbox.timezone)
        if (
            mailbox.daily_cap > 0
            and mailbox.cap_day_start == day_start
            and mailbox.cap_day_sent >= mailbox.daily_cap
        ):
            return True
        spacing = timedelta(seconds=mailbox.min_spacing_seconds)
        return mailbox.last_sent_at is not None and now < mailbox.last_sent_at + spacing

    def _transport(self, mailbox: Mailbox) -> MailTransport:
        from crm.outreach.mailboxes import mailbox_password

        username = mailbox.username.strip() or None
        settings = SmtpSettings(
            host=mailbox.smtp_host,
            port=mailbox.smtp_port,
            security=Security(mailbox.smtp_security.value),
            username=username,
            password=mailbox_password(mailbox) if username else None,
            timeout=self.settings.smtp_timeout,
            ehlo_name=mailbox.domain,
            ca_file=self.settings.ca_file,
        )
        return make_transport(self.settings.transport, settings)

    def _evidence(self, rows: Sequence[Row[Any]]) -> dict[int, Any]:
        campaigns = {r.campaign_id for r in rows}
        competitors: dict[int, list[str]] = {}
        for campaign_id in campaigns:
            campaign = db.session.get(Campaign, campaign_id)
            competitors[campaign_id] = campaign.competitor_domains if campaign else []
        return best_evidence(
            {r.prospect_id for r in rows},
            {r.prospect_id: competitors[r.campaign_id] for r in rows},
        )

    def _sequence_steps(self, sequence_id: int) -> dict[int, SequenceStep]:
        steps = self.steps.get(sequence_id)
        if steps is None:
            rows = db.session.scalars(
                select(SequenceStep).where(SequenceStep.sequence_id == sequence_id)
            ).all()
            steps = self.steps[sequence_id] = {s.position: s for s in rows}
        return steps

    # -- one touch ----------------------------------------------------------

    def _one(self, transport: MailTransport, row: Any, evidence: Any | None) -> None:
        now = self.clock()
        fresh = db.session.execute(
            _facts_query(),
            {
                "enrollment_id": row.enrollment_id,
                "prospect_id": row.prospect_id,
                "email": row.email,
                "domain": _email_domain(row.email),
                "stop_all": bool(row.stop_all_on_reply),
            },
        ).one_or_none()
        if fresh is None:  # the enrollment was deleted
            return
        contact_tz = _contact_zone(row.contact_tz or "", fresh.timezone)
        earlier = (
            db.session.execute(
                _earlier_steps_query(), {"enrollment_id": row.enrollment_id, "step": row.step}
            ).all()
            if row.step > 1
            else []
        )
        steps = self._sequence_steps(row.sequence_id)
        offsets = _offsets(steps, row.step)
        rendered: _Rendered | None = None
        problem: str | None = None
        try:
            rendered = self._render(row, evidence, steps, earlier, now)
        except (TemplateProblem, ComposeError) as exc:
            problem = str(exc)
        pending = bool(earlier) and any(t.state in _PENDING for t in earlier)
        last_sent = next((t for t in reversed(earlier) if t.sent_at is not None), None)
        not_before = None
        if last_sent is not None and row.step <= len(offsets):
            gap = offsets[row.step - 1] - offsets[last_sent.step - 1]
            not_before = follow_up_not_before(last_sent.sent_at, gap, contact_tz)
        bounced = max(
            (d for d in (fresh.last_bounce_at, fresh.bounced_at) if d is not None), default=None
        )
        touch = TouchFacts(
            due_at=row.due_at,
            enrollment_state=fresh.state.value,
            watch_from=row.watch_from,
            contact_tz=contact_tz,
            last_reply_at=fresh.last_reply_at,
            last_hard_bounce_at=bounced,
            address_suppressed=bool(fresh.address_suppressed),
            domain_suppressed=bool(fresh.domain_suppressed),
            render_problem=problem,
            previous_step_pending=pending,
            not_before=not_before,
        )
        mailbox_tz = _zone(fresh.timezone)
        day_start, day_end = _mailbox_day(now, fresh.timezone)
        mailbox = MailboxFacts(
            window=_window(fresh.window_start, fresh.window_end, fresh.days),
            tz=mailbox_tz,
            daily_cap=fresh.daily_cap,
            sent_today=fresh.cap_day_sent if fresh.cap_day_start == day_start else 0,
            day_start=day_start,
            day_end=day_end,
            min_spacing=timedelta(seconds=fresh.min_spacing_seconds),
            last_sent_at=fresh.last_sent_at,
            paused=fresh.paused,
            pause_reason=fresh.paused_reason or None,
        )
        jitter = draw_jitter(self.settings.max_jitter, self.rng)
        decision = decide(touch, mailbox, now, jitter)
        if decision.verdict is Verdict.SEND:
            assert rendered is not None
            self._send(transport, row, rendered, now, day_start, fresh, offsets, contact_tz)
        elif decision.verdict is Verdict.DEFER:
            self._defer(row, decision)
        elif decision.verdict is Verdict.CANCEL:
            self._cancel(row, decision, now)
        else:
            self._block(row, decision)

    def _render(
        self,
        row: Any,
        evidence: Any | None,
        steps: dict[int, SequenceStep],
        earlier: Sequence[Row[Any]],
        now: datetime,
    ) -> _Rendered:
        step = steps.get(row.step)
        if step is None:
            raise TemplateProblem(f"step {row.step} is no longer in the sequence")
        assert self.mailbox is not None
        context = merge_context(
            contact={
                "first_name": row.first_name,
                "last_name": row.last_name,
                "email": row.email,
                "role": row.role,
            },
            prospect_domain=row.domain,
            link_type=row.link_type,
            evidence=evidence,
            target=(
                {"url": row.target_url, "title": row.target_title, "pitch": row.target_pitch}
                if row.target_id is not None
                else None
            ),
            sender_name=self.mailbox.from_name,
            sender_email=self.mailbox.from_email,
            campaign_name=row.campaign_name,
            campaign_site=row.site,
        )
        thread = [t for t in earlier if t.state == TouchState.SENT]
        body = render_body(step.body_template, context)
        if thread:
            first_subject = thread[0].subject or ""
            header_subject = reply_subject(first_subject)
        else:
            own = step.subject_template
            if not own.strip() and 1 in steps:
                own = steps[1].subject_template
            first_subject = header_subject = render_subject(own, context)
        token = make_unsubscribe_token(self.settings.secret, row.email, row.id)
        raw = compose_bytes(
            OutgoingEmail(
                message_id=row.message_id,
                sender_address=self.mailbox.from_email,
                sender_name=self.mailbox.from_name or None,
                recipient_address=row.email,
                recipient_name=" ".join(n for n in (row.first_name, row.last_name) if n) or None,
                subject=first_subject,
                text=body,
                date=now,
                unsubscribe_url=unsubscribe_url(self.settings.base_url, token),
                thread=[t.message_id for t in thread],
            )
        )
        return _Rendered(header_subject, body, raw)

    def _send(
        self,
        transport: MailTransport,
        row: Any,
        rendered: _Rendered,
        now: datetime,
        day_start: datetime,
        fresh: Any,
        offsets: list[int],
        contact_tz: tzinfo,
    ) -> None:
        assert self.mailbox is not None
        attempts = row.attempts + 1
        check = outbox.SendingCheck(
            touch_id=row.id,
            enrollment_id=row.enrollment_id,
            prospect_id=row.prospect_id,
            watch_from=row.watch_from,
            stop_all_on_reply=bool(row.stop_all_on_reply),
        )
        slot = outbox.MailboxSlot(
            mailbox_id=self.mailbox_id,
            day_start=day_start,
            daily_cap=fresh.daily_cap,
            min_spacing=timedelta(seconds=fresh.min_spacing_seconds),
        )

        def before_data() -> None:
            problem = outbox.begin_sending(
                check,
                self.holder,
                now,
                attempts=attempts,
                slot=slot,
                subject=rendered.subject,
                body=rendered.body,
                lease=self.settings.lease,
            )
            if problem is not None:
                db.session.rollback()
                raise _NotSending(problem)
            db.session.commit()
            faults.reached("after-sending")

        try:
            outcome = transport.send(
                rendered.raw, row.email, self.mailbox.from_email, before_data=before_data
            )
        except _NotSending as exc:
            # The mailbox's slot went to another sender first, or the touch was
            # cancelled, its enrollment stopped or a reply arrived since it was
            # checked. Give it back (if still ours); the next pass decides again.
            outbox.release([row.id], self.holder)
            db.session.commit()
            self.passed_over.add(row.id)
            if exc.problem == "mailbox":
                self.stopped = True
            return
        self._outcome(row, rendered, outcome, attempts, offsets, contact_tz)

    def _outcome(
        self,
        row: Any,
        rendered: _Rendered,
        outcome: SendOutcome,
        attempts: int,
        offsets: list[int],
        contact_tz: tzinfo,
    ) -> None:
        assert self.mailbox is not None
        now = self.clock()
        summary = outcome.summary()
        kind = outcome.kind
        if kind is OutcomeKind.ACCEPTED:
            faults.reached("after-accepted")
            if outbox.finish(
                row.id, self.holder, TouchState.SENT, "", sent_at=now, smtp_reply=summary
            ):
                outbox.record_sent(
                    outbox.SentTouch(
                        touch_id=row.id,
                        enrollment_id=row.enrollment_id,
                        prospect_id=row.prospect_id,
                        prospect_status=row.prospect_status,
                        step=row.step,
                        last_step=len(offsets),
                        email=row.email,
                        subject=rendered.subject,
                        message_id=row.message_id,
                        offsets=offsets,
                        tz=contact_tz,
                        window=_window(
                            self.mailbox.window_start, self.mailbox.window_end, self.mailbox.days
                        ),
                    ),
                    now,
                )
            db.session.commit()
            self.counts["sent"] += 1
        elif kind is OutcomeKind.RETRY and outcome.stage in (Stage.CONNECT, Stage.TLS, Stage.AUTH):
            # The server cannot be reached: not this touch's fault; try next pass.
            outbox.finish(
                row.id,
                self.holder,
                TouchState.SCHEDULED,
                f"cannot reach the SMTP server: {summary}",
                claimed_by=None,
            )
            db.session.commit()
            self.counts["deferred"] += 1
            self.stopped = True
        elif kind is OutcomeKind.RETRY:
            delay = retry_delay(attempts)
            if delay is None:
                outbox.finish(
                    row.id,
                    self.holder,
                    TouchState.FAILED,
                    f"gave up after {attempts} temporary failures: {summary}",
                    smtp_reply=summary,
                    attempts=attempts,
                )
                self.counts["failed"] += 1
            else:
                due = now + delay
                outbox.finish(
                    row.id,
                    self.holder,
                    TouchState.RETRY_WAIT,
                    f"temporary failure (attempt {attempts}), next try "
                    f"{due:%Y-%m-%d %H:%M} UTC: {summary}",
                    smtp_reply=summary,
                    attempts=attempts,
                    due_at=due,
                    claimed_by=None,
                )
                self.counts["retry"] += 1
            db.session.commit()
        elif kind is OutcomeKind.HARD_BOUNCE:
            self._hard_bounce(row, summary, attempts, now)
        elif kind is OutcomeKind.PAUSE_MAILBOX:
            outbox.finish(
                row.id,
                self.holder,
                TouchState.SCHEDULED,
                f"not sent, the mailbox was paused: {summary}",
                claimed_by=None,
            )
            self._pause(f"the SMTP server refused the mailbox: {summary}")
        elif kind is OutcomeKind.UNCERTAIN:
            outbox.finish(
                row.id,
                self.holder,
                TouchState.UNCERTAIN,
                f"{summary}: {outbox.UNCERTAIN_NOTE}",
                smtp_reply=summary,
                attempts=attempts,
            )
            db.session.commit()
            self.counts["uncertain"] += 1
        else:
            outbox.finish(
                row.id,
                self.holder,
                TouchState.FAILED,
                f"refused: {summary}",
                smtp_reply=summary,
                attempts=attempts,
            )
            db.session.commit()
            self.counts["failed"] += 1

    def _hard_bounce(self, row: Any, summary: str, attempts: int, now: datetime) -> None:
        if not outbox.finish(
            row.id,
            self.holder,
            TouchState.FAILED,
            f"hard bounce: {summary}",
            smtp_reply=summary,
            attempts=attempts,
        ):
            db.session.commit()
            return
        suppress(row.email, f"hard bounce: {summary}"[:200])
        contact = db.session.get(Contact, row.contact_id)
        enrollment = db.session.get(Enrollment, row.enrollment_id)
        if contact is not None:
            contact.bounced_at = now
        if enrollment is not None:
            add_touchpoint(
                enrollment.prospect,
                TouchpointKind.BOUNCE,
                f"Touch {row.step} to {row.email} bounced: {summary}",
                at=now,
                touch_id=row.id,
                message_id=row.message_id,
            )
            stop_enrollment(enrollment, StopReason.BOUNCED, now=now)
        db.session.commit()
        self.counts["bounced"] += 1

    def _pause(self, reason: str) -> None:
        assert self.mailbox is not None
        self.mailbox.paused = True
        self.mailbox.paused_reason = reason[:1000]
        db.session.commit()
        self.counts["mailboxes_paused"] += 1
        self.stopped = True

    def _defer(self, row: Any, decision: Decision) -> None:
        assert decision.until is not None
        until = decision.until
        outbox.defer(
            row.id,
            self.holder,
            until,
            f"{decision.detail}; next try {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        )
        db.session.commit()
        self.counts["deferred"] += 1
        if decision.holds_mailbox:
            self.stopped = True

    def _cancel(self, row: Any, decision: Decision, now: datetime) -> None:
        outbox.finish(row.id, self.holder, TouchState.CANCELLED, decision.detail, claimed_by=None)
        stop = _STOP_FOR.get(decision.reason) if decision.reason else None
        if stop is not None:
            enrollment = db.session.get(Enrollment, row.enrollment_id)
            if enrollment is not None:
                stop_enrollment(enrollment, stop, now=now)
        db.session.commit()
        self.counts["cancelled"] += 1

    def _block(self, row: Any, decision: Decision) -> None:
        outbox.release([row.id], self.holder, note=f"blocked: {decision.detail}")
        self.passed_over.add(row.id)
        db.session.commit()
        self.counts["blocked"] += 1
        if decision.holds_mailbox:
            self.stopped = True


def _offsets(steps: dict[int, SequenceStep], step: int) -> list[int]:
    """Return day offsets of the sequence's steps (first 0), long enough to include step."""
    ordered = [steps[p].day_offset for p in sorted(steps)]
    offsets = [o - ordered[0] for o in ordered] if ordered else [0]
    while len(offsets) < step:
        offsets.append(offsets[-1] + 1)
    return offsets
