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

Beside it: the mailbox's slot (crm.outreach.mailbox_slots), what a sent touch
changes (crm.outreach.sent_touches) and what people do to a touch: cancel it,
resolve an uncertain one (crm.outreach.touch_actions).

Functions here execute statements and flush; the sender pass (or the request) commits.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, exists, or_, select, true, update

from crm.extensions import db
from crm.models import (
    TOUCH_HELD,
    TOUCH_QUEUED,
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    Mailbox,
    OneOffMessage,
    Suppression,
    Touch,
    TouchState,
)
from crm.outreach.mailbox_slots import MailboxSlot, take_slot

DEFAULT_LEASE = timedelta(minutes=10)
UNCERTAIN_NOTE = (
    "the sender stopped during the SMTP conversation, so the message may have been "
    "delivered: check the mailbox's Sent folder, then mark it sent or re-queue it"
)


def new_holder_id() -> str:
    """Return a name for one sender pass: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


# What the pass sends: the touches of sequences and one-off messages, same states.
Outgoing = type[Touch] | type[OneOffMessage]


def update_outgoing(*where: Any, model: Outgoing = Touch, **values: Any) -> int:
    """Update the touches (or one-off messages) that match; return how many changed."""
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
        uncertain += update_outgoing(
            model.state == TouchState.SENDING,
            model.lease_until < now,
            model=model,
            state=TouchState.UNCERTAIN,
            lease_until=None,
            last_error=UNCERTAIN_NOTE,
        )
        requeued += update_outgoing(
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
    update_outgoing(
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
    update_outgoing(
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
    taken = update_outgoing(
        _held(message_id, holder, {TouchState.CLAIMED}, OneOffMessage),
        ~exists().where(Suppression.value.in_((email, domain))),
        model=OneOffMessage,
        state=TouchState.SENDING,
        attempts=OneOffMessage.attempts + 1,
        lease_until=now + lease,
    )
    return take_slot(slot, now) if taken == 1 else "lost"
