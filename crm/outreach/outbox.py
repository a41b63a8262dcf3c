"""The outbox: the states of a touch and the only ways it moves between them (DESIGN §5).

    scheduled ─claim─▶ claimed ─begin_sending─▶ sending ──250──▶ sent
    retry_wait ┘          │                        ├─ 4xx ──▶ retry_wait (backoff)
                          ├─ not yet ─▶ scheduled  ├─ 5xx ──▶ failed
                          ├─ never ──▶ cancelled   └─ cut off after DATA,
                          └─ lease expired ─▶ scheduled    or lease expired ─▶ uncertain

- A claim takes a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the same
  statement as a compare-and-set on SQLite, which has one writer at a time).
  A claim whose lease expired goes back to the queue: nothing was sent.
- ``sending`` is a compare-and-set committed before the SMTP conversation:
  the touch must still be ours, its enrollment active, no reply or bounce
  since, the address and its domain not suppressed, and the mailbox's slot
  free under its daily cap and spacing.
- A ``sending`` touch whose lease expired (the sender died mid-conversation)
  becomes ``uncertain`` and is never re-sent automatically: a person marks it
  sent or re-queues it.

Functions here execute statements and flush; the sender pass (or the request) commits.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Table, and_, bindparam, case, exists, insert, or_, select, true, update

from crm.core.errors import UserError
from crm.core.timeline import change_status
from crm.extensions import db
from crm.models import (
    TOUCH_CANCELLABLE,
    TOUCH_HELD,
    TOUCH_QUEUED,
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    Mailbox,
    OneOffMessage,
    Prospect,
    ProspectStatus,
    Suppression,
    Touch,
    Touchpoint,
    TouchpointKind,
    TouchState,
    User,
    UTCDateTime,
    utcnow,
)
from crm.outreach.plan import add_days, sequence_day
from crm.outreach.windows import SendingWindow

DEFAULT_LEASE = timedelta(minutes=10)
# A follow-up is moved on only when a late send would otherwise put it this
# much earlier than its gap; smaller slips are left to the pre-send check.
PUSH_TOLERANCE = timedelta(hours=1)
_BEFORE_OUTREACH = (ProspectStatus.NEW, ProspectStatus.QUALIFIED)
UNCERTAIN_NOTE = (
    "the sender stopped during the SMTP conversation, so the message may have been "
    "delivered: check the mailbox's Sent folder, then mark it sent or re-queue it"
)


def new_holder_id() -> str:
    """Return a name for one sender pass: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


# What the pass sends: the touches of sequences and one-off messages, same states.
Outgoing = type[Touch] | type[OneOffMessage]


def _update(*where: Any, model: Outgoing = Touch, **values: Any) -> int:
    result = db.session.execute(
        update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Recovery:
    uncertain: int
    requeued: int


def recover_expired(now: datetime) -> Recovery:
    """Requeue claims whose lease expired; mark expired ``sending`` messages uncertain."""
    uncertain = requeued = 0
    for model in (Touch, OneOffMessage):
        uncertain += _update(
            model.state == TouchState.SENDING,
            model.lease_until < now,
            model=model,
            state=TouchState.UNCERTAIN,
            lease_until=None,
            last_error=UNCERTAIN_NOTE,
        )
        requeued += _update(
            model.state == TouchState.CLAIMED,
            model.lease_until < now,
            model=model,
            state=TouchState.SCHEDULED,
            claimed_by=None,
            lease_until=None,
        )
    return Recovery(uncertain, requeued)


def _due(now: datetime) -> Any:
    return and_(
        Touch.state.in_(TOUCH_QUEUED),
        Touch.due_at <= now,
        Touch.held_for_review.is_(False),  # a first email waiting for approval
        Enrollment.id == Touch.enrollment_id,
        Enrollment.state == EnrollmentState.ACTIVE,
    )


def due_mailbox_ids(now: datetime) -> list[int]:
    """Return the unpaused mailboxes with a due one-off or touch of an active enrollment."""
    has_due = exists().where(Enrollment.mailbox_id == Mailbox.id, _due(now))
    has_one_off = exists().where(
        OneOffMessage.mailbox_id == Mailbox.id,
        OneOffMessage.state.in_(TOUCH_QUEUED),
        OneOffMessage.due_at <= now,
    )
    query = (
        select(Mailbox.id)
        .where(Mailbox.paused.is_(False), or_(has_one_off, has_due))
        .order_by(Mailbox.id)
    )
    return list(db.session.scalars(query))


def claim_due(
    mailbox_id: int,
    holder: str,
    now: datetime,
    *,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    exclude: Collection[int] = (),
) -> list[int]:
    """Claim up to ``limit`` due touches of a mailbox for ``holder``; return their ids in due order.

    One statement: on PostgreSQL the candidates are locked with SKIP LOCKED, so
    concurrent passes never wait for or share a touch; SQLite renders no lock
    and runs one writer at a time, and the outer state test is the
    compare-and-set all the same.
    """
    candidates = (
        select(Touch.id)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .where(_due(now), Enrollment.mailbox_id == mailbox_id)
    )
    return _claim(Touch, candidates, holder, now, limit, lease, exclude)


def claim_one_offs(
    mailbox_id: int,
    holder: str,
    now: datetime,
    *,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    exclude: Collection[int] = (),
) -> list[int]:
    """Claim up to ``limit`` due one-off messages of a mailbox, as claim_due does touches."""
    candidates = select(OneOffMessage.id).where(
        OneOffMessage.mailbox_id == mailbox_id,
        OneOffMessage.state.in_(TOUCH_QUEUED),
        OneOffMessage.due_at <= now,
    )
    return _claim(OneOffMessage, candidates, holder, now, limit, lease, exclude)


def _claim(
    model: Outgoing,
    candidates: Any,
    holder: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    exclude: Collection[int],
) -> list[int]:
    due = (
        candidates.where(model.id.not_in(sorted(exclude)))
        .order_by(model.due_at, model.id)
        .limit(limit)
        .with_for_update(of=model, skip_locked=True)
    )
    claimed = db.session.scalars(
        update(model)
        .where(model.id.in_(due.scalar_subquery()), model.state.in_(TOUCH_QUEUED))
        .values(state=TouchState.CLAIMED, claimed_by=holder, lease_until=now + lease)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    in_order = select(model.id).where(model.id.in_(claimed)).order_by(model.due_at, model.id)
    return list(db.session.scalars(in_order))


def _held(
    touch_id: int,
    holder: str,
    states: Collection[TouchState] = TOUCH_HELD,
    model: Outgoing = Touch,
) -> Any:
    return and_(model.id == touch_id, model.claimed_by == holder, model.state.in_(states))


def release(
    touch_ids: Sequence[int], holder: str, note: str | None = None, *, model: Outgoing = Touch
) -> None:
    """Give claimed messages back to the queue unchanged (nothing was sent)."""
    if not touch_ids:
        return
    values: dict[str, Any] = {"state": TouchState.SCHEDULED, "claimed_by": None}
    if note is not None:
        values["last_error"] = note
    _update(
        model.id.in_(list(touch_ids)),
        model.claimed_by == holder,
        model.state == TouchState.CLAIMED,
        model=model,
        lease_until=None,
        **values,
    )


def defer(
    touch_id: int, holder: str, until: datetime, note: str, *, model: Outgoing = Touch
) -> None:
    """Return a claimed message to the queue, due again at ``until``."""
    _update(
        _held(touch_id, holder, {TouchState.CLAIMED}, model),
        model=model,
        state=TouchState.SCHEDULED,
        due_at=until,
        claimed_by=None,
        lease_until=None,
        last_error=note,
    )


def finish(
    touch_id: int,
    holder: str,
    state: TouchState,
    note: str,
    *,
    model: Outgoing = Touch,
    **values: Any,
) -> bool:
    """Move a held message to a final or waiting state with a note; False if no longer ours."""
    values = {"state": state, "lease_until": None, "last_error": note, **values}
    params = {f"new_{key}": value for key, value in values.items()}
    result = db.session.execute(
        _finish_statement(model.__table__, tuple(values)),
        {"held_id": touch_id, "holder": holder, **params},
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# The statements run for every message are built once, with bound parameters:
# building one and computing its cache key costs more than running it.


@cache
def _finish_statement(table: Table, keys: tuple[str, ...]) -> Any:
    return (
        update(table)
        .where(
            table.c.id == bindparam("held_id"),
            table.c.claimed_by == bindparam("holder"),
            table.c.state.in_(TOUCH_HELD),
        )
        .values({key: bindparam(f"new_{key}") for key in keys})
    )


@dataclass(frozen=True)
class TouchToSend:
    """A claimed touch about to go out, with what must still hold when it starts."""

    touch_id: int
    enrollment_id: int
    prospect_id: int
    watch_from: datetime  # replies and bounces from here on stop it
    stop_all_on_reply: bool
    email: str
    domain: str  # the registrable domain a domain suppression names
    attempts: int  # counting this one
    subject: str
    body: str


@dataclass(frozen=True)
class MailboxSlot:
    """The mailbox rules a send must fit in, checked again in the database."""

    mailbox_id: int
    day_start: datetime  # the mailbox's local day, as UTC
    daily_cap: int | None
    min_spacing: timedelta


def begin_sending(
    touch: TouchToSend, slot: MailboxSlot, holder: str, now: datetime, lease: timedelta
) -> str | None:
    """Move a claimed touch to ``sending`` and take the mailbox's slot; return why not, or None.

    ``"lost"``: the touch is no longer ours to send (taken over, enrollment
    stopped, a reply or bounce since, suppressed); ``"mailbox"``: paused, full
    for the day or within its spacing. On an answer the caller rolls back; on
    None it commits before the message goes out. The rendered subject and
    body are stored with the touch, so an uncertain touch shows what may have
    gone out.
    """
    params = {
        "touch_id": touch.touch_id,
        "holder": holder,
        "enrollment": touch.enrollment_id,
        "prospect": touch.prospect_id,
        "watch_from": touch.watch_from,
        "email": touch.email,
        "domain": touch.domain,
        "new_attempts": touch.attempts,
        "new_lease_until": now + lease,
        "new_subject": touch.subject,
        "new_body": touch.body,
    }
    taken = db.session.execute(_begin_sending_statement(touch.stop_all_on_reply), params)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return "lost"
    return take_slot(slot, now)


@cache
def _begin_sending_statement(stop_all_on_reply: bool) -> Any:
    of_enrollment = InboundMessage.enrollment_id == bindparam("enrollment")
    reply_scope = true() if stop_all_on_reply else of_enrollment
    stopped_since = exists().where(
        InboundMessage.prospect_id == bindparam("prospect"),
        InboundMessage.received_at >= bindparam("watch_from"),
        or_(
            and_(InboundMessage.kind == InboundKind.HUMAN_REPLY, reply_scope),
            and_(InboundMessage.kind == InboundKind.BOUNCE_HARD, of_enrollment),
        ),
    )
    return (
        update(Touch)
        .where(
            Touch.id == bindparam("touch_id"),
            Touch.claimed_by == bindparam("holder"),
            Touch.state == TouchState.CLAIMED,
            exists().where(
                Enrollment.id == bindparam("enrollment"),
                Enrollment.state == EnrollmentState.ACTIVE,
            ),
            ~stopped_since,
            ~exists().where(Suppression.value.in_([bindparam("email"), bindparam("domain")])),
        )
        .values(
            state=TouchState.SENDING,
            attempts=bindparam("new_attempts"),
            lease_until=bindparam("new_lease_until"),
            subject=bindparam("new_subject"),
            body=bindparam("new_body"),
        )
        .execution_options(synchronize_session=False)
    )


def begin_one_off(
    message_id: int, email: str, domain: str, slot: MailboxSlot, holder: str, now: datetime,
    lease: timedelta,
) -> str | None:  # fmt: skip
    """Move a claimed one-off message to ``sending`` and take the slot, as begin_sending does."""
    taken = _update(
        _held(message_id, holder, {TouchState.CLAIMED}, OneOffMessage),
        ~exists().where(Suppression.value.in_((email, domain))),
        model=OneOffMessage,
        state=TouchState.SENDING,
        attempts=OneOffMessage.attempts + 1,
        lease_until=now + lease,
    )
    return take_slot(slot, now) if taken == 1 else "lost"


def take_slot(slot: MailboxSlot, now: datetime) -> str | None:
    """Count a send in the mailbox's day if it is unpaused, under its cap and past its spacing."""
    spacing, cap = slot.min_spacing > timedelta(0), slot.daily_cap is not None
    params: dict[str, Any] = {"mailbox": slot.mailbox_id, "now": now, "day_start": slot.day_start}
    if spacing:
        params["ready_before"] = now - slot.min_spacing
    if cap:
        params["cap"] = slot.daily_cap
    result = db.session.execute(_take_slot_statement(spacing, cap), params)
    return None if result.rowcount == 1 else "mailbox"  # type: ignore[attr-defined]


@cache
def _take_slot_statement(spacing: bool, cap: bool) -> Any:
    day_start = bindparam("day_start", type_=UTCDateTime())
    rules = [Mailbox.id == bindparam("mailbox"), Mailbox.paused.is_(False)]
    if spacing:
        ready_before = bindparam("ready_before", type_=UTCDateTime())
        rules.append(or_(Mailbox.last_sent_at.is_(None), Mailbox.last_sent_at <= ready_before))
    if cap:
        rules.append(
            or_(
                Mailbox.cap_day_start.is_(None),
                Mailbox.cap_day_start != day_start,
                Mailbox.cap_day_sent < bindparam("cap"),
            )
        )
    return (
        update(Mailbox)
        .where(*rules)
        .values(
            last_sent_at=bindparam("now", type_=UTCDateTime()),
            cap_day_start=day_start,
            cap_day_sent=case(
                (Mailbox.cap_day_start == day_start, Mailbox.cap_day_sent + 1), else_=1
            ),
        )
        .execution_options(synchronize_session=False)
    )


def give_back_slot(slot: MailboxSlot) -> None:
    """Return the day's slot of a message the server never received (refused before DATA).

    ``last_sent_at`` stays, so the spacing counts from the attempt: later, never sooner.
    """
    db.session.execute(
        update(Mailbox)
        .where(
            Mailbox.id == slot.mailbox_id,
            Mailbox.cap_day_start == slot.day_start,
            Mailbox.cap_day_sent > 0,
        )
        .values(cap_day_sent=Mailbox.cap_day_sent - 1)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class SentTouch:
    """What recording a sent touch needs, as plain values."""

    touch_id: int
    enrollment_id: int
    prospect_id: int
    step: int
    last_step: int
    email: str
    subject: str
    message_id: str
    offsets: Sequence[int]
    tz: tzinfo
    window: SendingWindow
    prospect_status: ProspectStatus | None = None  # as read before sending; None: not known
    next_due_at: datetime | None = None  # the next step's due time; None: not known


def mark_sent(sent: SentTouch, holder: str, reply: str, at: datetime) -> bool:
    """Record a held touch the server accepted, and what follows; False if no longer ours."""
    if not finish(sent.touch_id, holder, TouchState.SENT, "", sent_at=at, smtp_reply=reply):
        return False
    record_sent(sent, at)
    return True


_ADD_TOUCHPOINT = insert(Touchpoint.__table__)


def record_sent(
    sent: SentTouch, now: datetime, *, actor: User | None = None, how: str = "sent"
) -> None:
    """Record the effects of a sent touch: timeline, pipeline, follow-up times, completion."""
    db.session.execute(
        _ADD_TOUCHPOINT,
        {
            "prospect_id": sent.prospect_id,
            "kind": TouchpointKind.SENT,
            "summary": f"Touch {sent.step} {how} to {sent.email}: {sent.subject}",
            "actor_id": actor.id if actor is not None else None,
            "at": now,
            "data": {"touch_id": sent.touch_id, "message_id": sent.message_id, "step": sent.step},
        },
    )
    if sent.prospect_status in (None, *_BEFORE_OUTREACH):
        prospect = db.session.get(Prospect, sent.prospect_id)
        if prospect is not None and prospect.status in _BEFORE_OUTREACH:
            reason = "first touch sent"
            change_status(prospect, ProspectStatus.CONTACTED, actor=actor, reason=reason, at=now)
    if sent.step >= sent.last_step:
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.id == sent.enrollment_id, Enrollment.state == EnrollmentState.ACTIVE)
            .values(state=EnrollmentState.COMPLETED)
            .execution_options(synchronize_session=False)
        )
    else:
        _push_follow_ups(sent, now)


def _earliest(sent: SentTouch, step: int, previous: tuple[int, datetime]) -> datetime:
    """Return the earliest a later step may go: the step before's time plus their gap."""
    gap = sent.offsets[step - 1] - sent.offsets[previous[0] - 1]
    day = sequence_day(current_app.config)
    return sent.window.next_slot(add_days(previous[1], gap, sent.tz, day), sent.tz)


def _push_follow_ups(sent: SentTouch, sent_at: datetime) -> None:
    """Keep each later step at least its gap after this send (a late send pushes them on)."""
    if sent.next_due_at is not None and len(sent.offsets) > sent.step:
        earliest = _earliest(sent, sent.step + 1, (sent.step, sent_at))
        if sent.next_due_at >= earliest - PUSH_TOLERANCE:
            return  # as nearly every send is: planned far enough ahead, nothing moves
    later = db.session.execute(
        select(Touch.id, Touch.step, Touch.due_at)
        .where(
            Touch.enrollment_id == sent.enrollment_id,
            Touch.step > sent.step,
            Touch.state.in_(TOUCH_QUEUED),
        )
        .order_by(Touch.step)
    ).all()
    previous = (sent.step, sent_at)
    for touch_id, step, due_at in later:
        if step > len(sent.offsets):
            break
        earliest = _earliest(sent, step, previous)
        if due_at < earliest - PUSH_TOLERANCE:
            _update(Touch.id == touch_id, Touch.state.in_(TOUCH_QUEUED), due_at=earliest)
            due_at = earliest
        previous = (step, due_at)


# ---------------------------------------------------------------------------
# What people do to a touch


def cancel_touch(touch: Touch, actor: User | None = None) -> bool:
    """Cancel a touch that has not gone out; False when it is too late (or already final)."""
    who = f" by {actor.email}" if actor is not None else ""
    changed = _update(
        Touch.id == touch.id,
        Touch.state.in_(TOUCH_CANCELLABLE),
        state=TouchState.CANCELLED,
        claimed_by=None,
        lease_until=None,
        last_error=f"cancelled{who}",
    )
    db.session.expire(touch)
    return changed == 1


def _uncertain(touch: Touch) -> None:
    if touch.state != TouchState.UNCERTAIN:
        raise UserError(f"touch {touch.step} is {touch.state.value}, not uncertain")


def requeue_uncertain_touch(
    touch: Touch, actor: User | None = None, *, now: datetime | None = None
) -> None:
    """Send an uncertain touch again (same Message-ID), because a person checked it did not go."""
    _uncertain(touch)
    who = f" by {actor.email}" if actor is not None else ""
    touch.state = TouchState.SCHEDULED
    touch.due_at = now or utcnow()
    touch.claimed_by = None
    touch.lease_until = None
    touch.last_error = f"re-queued{who} after an uncertain send"
    db.session.flush()


def mark_uncertain_sent(
    touch: Touch, actor: User | None = None, *, now: datetime | None = None
) -> None:
    """Record an uncertain touch as sent, because a person found it in the Sent folder."""
    from crm.outreach.lifecycle import enrollment_offsets
    from crm.outreach.mailboxes import mailbox_window
    from crm.outreach.windows import resolve_timezone

    _uncertain(touch)
    now = now or utcnow()
    enrollment = touch.enrollment
    who = f" by {actor.email}" if actor is not None else ""
    touch.state = TouchState.SENT
    touch.sent_at = now
    touch.claimed_by = None
    touch.lease_until = None
    touch.last_error = f"marked sent{who}"
    db.session.flush()
    offsets = enrollment_offsets(enrollment)
    sent = SentTouch(
        touch_id=touch.id,
        enrollment_id=enrollment.id,
        prospect_id=enrollment.prospect_id,
        step=touch.step,
        last_step=len(offsets),
        email=enrollment.contact.email,
        subject=touch.subject or "",
        message_id=touch.message_id,
        offsets=offsets,
        tz=resolve_timezone(enrollment.contact.timezone, enrollment.mailbox.timezone),
        window=mailbox_window(enrollment.mailbox),
    )
    record_sent(sent, now, actor=actor, how="marked sent")
    db.session.expire(enrollment)
    db.session.flush()
