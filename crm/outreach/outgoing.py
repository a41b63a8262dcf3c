"""What the sender reads about a touch right before sending it, and the message it builds.

Everything is read fresh for each touch (the gate is re-checked before every
message) and handed on as plain values: the pass commits around every send,
which would expire ORM objects and turn each attribute read into a query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from crm.core.domains import email_domain
from crm.extensions import db
from crm.mail.compose import OutgoingEmail, compose_bytes, reply_subject
from crm.mail.smtp import envelope_address
from crm.mail.unsubscribe import make_unsubscribe_token, unsubscribe_url
from crm.models import (
    TOUCH_UNFINISHED,
    Campaign,
    Contact,
    Enrollment,
    InboundKind,
    InboundMessage,
    Mailbox,
    Prospect,
    SequenceStep,
    Site,
    TargetPage,
    Touch,
    TouchState,
)
from crm.outreach.context import merge_context
from crm.outreach.gate import MailboxFacts, TouchFacts
from crm.outreach.plan import add_days, sequence_day
from crm.outreach.templates import TemplateProblem, render_body_and_subject
from crm.outreach.windows import SendingWindow, local_day_bounds, resolve_timezone


def _touch_query() -> Any:
    following = aliased(Touch)
    next_due = (
        select(following.due_at)
        .where(following.enrollment_id == Touch.enrollment_id, following.step == Touch.step + 1)
        .scalar_subquery()
    )
    since = InboundMessage.received_at >= Enrollment.created_at
    last_reply = (
        select(func.max(InboundMessage.received_at))
        .where(
            InboundMessage.prospect_id == Enrollment.prospect_id,
            InboundMessage.kind == InboundKind.HUMAN_REPLY,
            or_(InboundMessage.enrollment_id == Enrollment.id, Campaign.stop_all_on_reply),
            since,
        )
        .scalar_subquery()
    )
    last_bounce = (
        select(func.max(InboundMessage.received_at))
        .where(
            InboundMessage.prospect_id == Enrollment.prospect_id,
            InboundMessage.kind == InboundKind.BOUNCE_HARD,
            or_(
                InboundMessage.enrollment_id == Enrollment.id,
                InboundMessage.bounce_recipient == Contact.email,
            ),
            since,
        )
        .scalar_subquery()
    )
    return (
        select(
            Touch.id,
            Touch.enrollment_id,
            Touch.step,
            Touch.message_id,
            Touch.due_at,
            Touch.attempts,
            Touch.subject_override,
            Touch.body_override,
            Enrollment.prospect_id,
            Enrollment.contact_id,
            Enrollment.sequence_id,
            Enrollment.created_at.label("watch_from"),
            Enrollment.state.label("enrollment_state"),
            Contact.email,
            Contact.first_name,
            Contact.last_name,
            Contact.role,
            Contact.timezone.label("contact_tz"),
            Contact.bounced_at,
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
            next_due.label("next_due_at"),
            last_reply.label("last_reply_at"),
            last_bounce.label("last_bounce_at"),
        )
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .join(Campaign, Campaign.id == Prospect.campaign_id)
        .join(Site, Site.id == Campaign.site_id)
        .outerjoin(TargetPage, TargetPage.id == Prospect.target_page_id)
    )


# Built once: the statement's cache key is then computed once, not for every touch.
_READ_TOUCH = _touch_query().where(Touch.id == bindparam("touch_id"))


def read_touch(touch_id: int) -> Row[Any] | None:
    """Return a touch with its merge values and gate facts, read now (None: deleted)."""
    return db.session.execute(_READ_TOUCH, {"touch_id": touch_id}).one_or_none()


def read_mailbox_facts(mailbox_id: int, now: datetime) -> MailboxFacts | None:
    """Read the mailbox's pause, cap counter and spacing as the gate needs them."""
    m = db.session.execute(
        select(
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
        ).where(Mailbox.id == mailbox_id)
    ).one_or_none()
    if m is None:
        return None
    day_start, day_end = mailbox_day(now, m.timezone)
    return MailboxFacts(
        window=window(m.window_start, m.window_end, m.days),
        tz=zone(m.timezone),
        daily_cap=m.daily_cap,
        sent_today=m.cap_day_sent if m.cap_day_start == day_start else 0,
        day_start=day_start,
        day_end=day_end,
        min_spacing=timedelta(seconds=m.min_spacing_seconds),
        last_sent_at=m.last_sent_at,
        paused=m.paused,
        pause_reason=m.paused_reason or None,
    )


def read_earlier_steps(row: Row[Any]) -> Sequence[Row[Any]]:
    """Return the touches of the enrollment before this one (none for a first touch)."""
    if row.step <= 1:
        return []
    query = (
        select(Touch.step, Touch.state, Touch.sent_at, Touch.message_id, Touch.subject)
        .where(Touch.enrollment_id == row.enrollment_id, Touch.step < row.step)
        .order_by(Touch.step)
    )
    return list(db.session.execute(query).all())  # type: ignore[arg-type]


@dataclass(frozen=True)
class StepText:
    """One sequence step's offset and templates."""

    day_offset: int
    subject: str
    body: str


def load_steps(sequence_id: int) -> dict[int, StepText]:
    """Return a sequence's steps by position."""
    rows = db.session.execute(
        select(
            SequenceStep.position,
            SequenceStep.day_offset,
            SequenceStep.subject_template,
            SequenceStep.body_template,
        ).where(SequenceStep.sequence_id == sequence_id)
    ).all()
    return {r.position: StepText(r.day_offset, r.subject_template, r.body_template) for r in rows}


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return resolve_timezone(None, name)


@lru_cache(maxsize=256)
def window(start: str, end: str, days: str) -> SendingWindow:
    return SendingWindow.parse(f"{start}-{end}", days)


def mailbox_day(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """Return the UTC bounds of the mailbox's local day containing now (its cap's day)."""
    return local_day_bounds(now, zone(tz_name))


def touch_facts(
    row: Row[Any],
    suppressed: frozenset[str],
    mailbox_tz: str,
    earlier: Sequence[Row[Any]],
    offsets: Sequence[int],
    render_problem: str | None,
) -> TouchFacts:
    """Turn what was read for a touch into the gate's plain facts."""
    tz = resolve_timezone(row.contact_tz or "", mailbox_tz)
    last_sent = next((t for t in reversed(earlier) if t.sent_at is not None), None)
    not_before = None
    if last_sent is not None and row.step <= len(offsets):
        gap = offsets[row.step - 1] - offsets[last_sent.step - 1]
        not_before = add_days(last_sent.sent_at, gap, tz, sequence_day(current_app.config))
    bounced = max((d for d in (row.last_bounce_at, row.bounced_at) if d), default=None)
    return TouchFacts(
        due_at=row.due_at,
        enrollment_state=row.enrollment_state.value,
        watch_from=row.watch_from,
        contact_tz=tz,
        last_reply_at=row.last_reply_at,
        last_hard_bounce_at=bounced,
        address_suppressed=row.email in suppressed,
        domain_suppressed=email_domain(row.email) in suppressed,
        render_problem=render_problem,
        previous_step_pending=any(t.state in TOUCH_UNFINISHED for t in earlier),
        not_before=not_before,
    )


@dataclass(frozen=True)
class Sender:
    """The sending mailbox as messages need it."""

    mailbox_id: int
    email: str
    name: str
    window: SendingWindow


@dataclass(frozen=True)
class Message:
    """A touch's message, ready for the SMTP conversation."""

    subject: str  # the Subject header as sent ("Re: ..." for a follow-up)
    body: str
    raw: bytes
    mail_from: str  # the envelope: ASCII (IDNA) domains
    rcpt_to: str


def render_message(
    row: Row[Any],
    evidence: Any | None,
    steps: Mapping[int, StepText],
    earlier: Sequence[Row[Any]],
    sender: Sender,
    now: datetime,
    *,
    base_url: str,
    secret: str,
) -> Message:
    """Render a touch's templates and build its message; raise TemplateProblem/ComposeError.

    A follow-up replies in the thread of the touches already sent: "Re: " +
    the first one's subject, In-Reply-To and References. When none went out
    (the first failed), it opens the thread with its own subject, or the
    first step's when it has none.
    """
    step = steps.get(row.step)
    if step is None:
        raise TemplateProblem(f"step {row.step} is no longer in the sequence")
    context = merge_context(
        contact=row,
        prospect_domain=row.domain,
        link_type=row.link_type,
        evidence=evidence,
        target=(
            {"url": row.target_url, "title": row.target_title, "pitch": row.target_pitch}
            if row.target_id is not None
            else None
        ),
        sender_name=sender.name,
        sender_email=sender.email,
        campaign_name=row.campaign_name,
        campaign_site=row.site,
    )
    thread = [t for t in earlier if t.state == TouchState.SENT]
    own = None
    if not thread:
        own = step.subject if step.subject.strip() or 1 not in steps else steps[1].subject
        own = row.subject_override or own  # personalised for this prospect
    body, subject = render_body_and_subject(row.body_override or step.body, own, context)
    if subject is None:
        first_subject = thread[0].subject or ""
        header_subject = reply_subject(first_subject)
    else:
        first_subject = header_subject = subject
    token = make_unsubscribe_token(secret, row.email, row.id)
    raw = compose_bytes(
        OutgoingEmail(
            message_id=row.message_id,
            sender_address=sender.email,
            sender_name=sender.name or None,
            recipient_address=row.email,
            recipient_name=" ".join(n for n in (row.first_name, row.last_name) if n) or None,
            subject=first_subject,
            text=body,
            date=now,
            unsubscribe_url=unsubscribe_url(base_url, token),
            thread=[t.message_id for t in thread],
        )
    )
    return Message(
        header_subject, body, raw, envelope_address(sender.email), envelope_address(row.email)
    )
