"""The outbox: the states of a touch and the only ways it moves between them (DESIGN §5).

    scheduled ──claim──▶ claimed ──354──▶ sending ──250──▶ sent
        ▲    (lease)        │                 │
        └── lease expired ──┘                 ├─ 4xx ──▶ retry_wait ──due──▶ claimed ...
                                              ├─ 5xx ──▶ failed
                                              └─ lease expired / broken after DATA ──▶ uncertain

- Claiming takes a lease: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
  compare-and-set ``UPDATE ... WHERE state IN (...) RETURNING id`` on SQLite.
  A claim whose lease expired goes back to the queue: nothing was sent.
- ``sending`` is committed once the server has accepted the envelope and said
  354, right before the message itself goes out; the same compare-and-set
  checks the touch is still ours, its enrollment still active with no reply
  since, and takes the mailbox's slot under its daily cap and spacing.
- ``sent`` is committed after the server's 250. A ``sending`` touch whose
  lease expired (the sender died) becomes ``uncertain`` and is never re-sent
  automatically: a person marks it sent or re-queues it.

Functions here execute statements and flush; the sender pass (or the request)
commits.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import CursorResult, exists, select, text, update

from crm.core.errors import UserError
from crm.core.timeline import change_status
from crm.extensions import db
from crm.models import (
    Enrollment,
    EnrollmentState,
    Mailbox,
    Prospect,
    ProspectStatus,
    Touch,
    TouchState,
    User,
    utcnow,
)
from crm.outreach import fast_path
from crm.outreach import outbox_sql as sql
from crm.outreach.outbox_sql import CLAIMABLE
from crm.outreach.plan import follow_up_not_before
from crm.outreach.windows import SendingWindow

DEFAULT_LEASE = timedelta(minutes=10)
# The queue's condition written as constants, so the databases match it to the
# partial index ix_touches_pending_due (a bound parameter would not).
PENDING = text("touches.state IN ('scheduled', 'retry_wait')")
# A follow-up is moved on only when a late send would otherwise put it this
# much earlier than its gap; smaller slips are left to the pre-send check.
PUSH_TOLERANCE = timedelta(hours=1)
UNCERTAIN_NOTE = (
    "the sender stopped during the SMTP conversation, so the message may have been "
    "delivered: check the mailbox's Sent folder, then mark it sent or re-queue it"
)


def new_holder_id() -> str:
    """Return a name for one sender pass: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def _dialect() -> str:
    return str(db.session.get_bind().dialect.name)


def _run(statement: Any, params: dict[str, Any]) -> CursorResult[Any]:
    result: CursorResult[Any] = db.session.connection().execute(statement, params)
    return result


@dataclass(frozen=True)
class Recovery:
    uncertain: int
    requeued: int


def recover_expired(now: datetime) -> Recovery:
    """Requeue claims whose lease expired; mark expired ``sending`` touches uncertain."""
    uncertain = db.session.execute(
        update(Touch)
        .where(Touch.state == TouchState.SENDING, Touch.lease_until < now)
        .values(state=TouchState.UNCERTAIN, lease_until=None, last_error=UNCERTAIN_NOTE)
        .execution_options(synchronize_session=False)
    )
    requeued = db.session.execute(
        update(Touch)
        .where(Touch.state == TouchState.CLAIMED, Touch.lease_until < now)
        .values(state=TouchState.SCHEDULED, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return Recovery(
        int(uncertain.rowcount or 0),  # type: ignore[attr-defined]
        int(requeued.rowcount or 0),  # type: ignore[attr-defined]
    )


def due_mailbox_ids(now: datetime) -> list[int]:
    """Return the unpaused mailboxes that have a due touch of an active enrollment."""
    return list(
        db.session.scalars(
            select(Mailbox.id)
            .where(
                Mailbox.paused.is_(False),
                exists()
                .where(Enrollment.mailbox_id == Mailbox.id)
                .where(Enrollment.state == EnrollmentState.ACTIVE)
                .where(Touch.enrollment_id == Enrollment.id)
                .where(PENDING, Touch.due_at <= now),
            )
            .order_by(Mailbox.id)
        )
    )


def claim_due(
    mailbox_id: int,
    holder: str,
    now: datetime,
    *,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    exclude: Collection[int] = (),
) -> list[int]:
    """Claim up to ``limit`` due touches of a mailbox for ``holder``; return their ids.

    Safe with several senders at once: on PostgreSQL rows another sender has
    locked are skipped; on SQLite one compare-and-set statement chooses and
    takes the rows (SQLite runs one writer at a time), so a row another
    sender claimed first is simply not ours.
    """
    take = {"holder": holder, "lease": now + lease, "now": now}
    if _dialect() != "postgresql":
        params = {**take, "mailbox_id": mailbox_id, "limit": limit, "exclude": sorted(exclude)}
        return list(_run(sql.claim_batch(), params).scalars())
    candidates = (
        select(Touch.id)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .where(
            PENDING,
            Touch.due_at <= now,
            Enrollment.mailbox_id == mailbox_id,
            Enrollment.state == EnrollmentState.ACTIVE,
        )
        .order_by(Touch.due_at, Touch.id)
        .limit(limit)
    )
    if exclude:
        candidates = candidates.where(Touch.id.not_in(sorted(exclude)))
    ids = list(db.session.scalars(candidates.with_for_update(of=Touch, skip_locked=True)))
    if ids:
        _run(sql.claim_ids(), {**take, "ids": ids})
    return ids


def release(touch_ids: Sequence[int], holder: str, note: str | None = None) -> None:
    """Give claimed touches back to the queue unchanged (nothing was sent)."""
    if touch_ids:
        params: dict[str, Any] = {"ids": list(touch_ids), "holder": holder}
        if note is not None:
            params["note"] = note
        _run(sql.release(note is not None, _dialect() == "postgresql"), params)


def defer(touch_id: int, holder: str, until: datetime, note: str) -> None:
    """Return a claimed touch to the queue, due again at ``until``."""
    _run(sql.defer(), {"tid": touch_id, "holder": holder, "until": until, "note": note})


def finish(touch_id: int, holder: str, state: TouchState, note: str, **values: object) -> bool:
    """Move a held touch to a final or waiting state with a note; False if no longer ours."""
    keys = tuple(sorted(values))
    params: dict[str, Any] = {f"v_{k}": values[k] for k in keys}
    params.update(tid=touch_id, holder=holder, v_state=state, v_note=note)
    return _run(sql.finish(keys), params).rowcount == 1


@dataclass(frozen=True)
class MailboxSlot:
    """The mailbox rules a send must fit in, checked again in the database."""

    mailbox_id: int
    day_start: datetime  # the mailbox's local day, as UTC
    daily_cap: int | None
    min_spacing: timedelta


@dataclass(frozen=True)
class SendingCheck:
    """What must still hold when a touch starts sending."""

    touch_id: int
    enrollment_id: int
    prospect_id: int
    watch_from: datetime
    stop_all_on_reply: bool
    email: str
    domain: str  # the registrable domain a domain suppression names


def begin_sending(
    check: SendingCheck,
    holder: str,
    now: datetime,
    *,
    attempts: int,
    slot: MailboxSlot,
    subject: str,
    body: str,
    lease: timedelta = DEFAULT_LEASE,
    record: Accepted | None = None,
) -> Callable[[], str | None]:
    """Return the statement that moves a claimed touch to ``sending`` and takes a slot.

    Run it (on the session's connection; crm.outreach.durability runs it on
    the thread that then commits) for why the touch may not go, or None: the
    caller commits before the message goes out. ``"lost"`` when the touch is
    no longer ours to send (another sender took it over, the enrollment
    stopped, a reply or bounce arrived, the address or its domain was
    suppressed); ``"mailbox"`` when the mailbox is paused, full for the day or
    must wait for its spacing (another sender got there first); ``"record"``
    when ``record`` could not be written. On a non-None answer the caller
    rolls back. The rendered subject and body are stored with the touch, so
    an uncertain touch shows what may have gone out.

    ``record``, a send accepted earlier, is recorded in the same transaction
    (on PostgreSQL in the same statement) when the touch is taken; what
    follows from it (``after_sent``, when ``changes_more`` says there is
    anything) is the caller's to write once the statement answered.
    """
    return fast_path.start_sending(
        fast_path.Start(
            touch_id=check.touch_id,
            holder=holder,
            enrollment_id=check.enrollment_id,
            prospect_id=check.prospect_id,
            watch_from=check.watch_from,
            stop_all_on_reply=check.stop_all_on_reply,
            email=check.email,
            domain=check.domain,
            attempts=attempts,
            lease_until=now + lease,
            subject=subject,
            body=body,
            mailbox_id=slot.mailbox_id,
            now=now,
            day_start=slot.day_start,
            daily_cap=slot.daily_cap,
            ready_before=now - slot.min_spacing if slot.min_spacing > timedelta(0) else None,
        ),
        fast_path_record(record) if record is not None else None,
    )


@dataclass(frozen=True)
class SentTouch:
    """What recording a sent touch needs; plain values so the sender's hot path stays lean."""

    touch_id: int
    enrollment_id: int
    prospect_id: int
    prospect_status: ProspectStatus
    step: int
    last_step: int
    email: str
    subject: str
    message_id: str
    offsets: Sequence[int]
    tz: tzinfo
    window: SendingWindow
    next_due_at: datetime | None = None  # the next step's due time, if known


@dataclass(frozen=True)
class Accepted:
    """A touch the server accepted (250) whose ``sent`` record is not written yet."""

    sent: SentTouch
    reply: str  # the server's answer, for the touch
    at: datetime


def fast_path_record(accepted: Accepted, how: str = "sent") -> fast_path.Record:
    """Return what the hot statements write for an accepted touch."""
    sent = accepted.sent
    return fast_path.Record(
        touch_id=sent.touch_id,
        sent_at=accepted.at,
        reply=accepted.reply,
        prospect_id=sent.prospect_id,
        summary=sent_summary(sent, how),
        data=sent_data(sent),
    )


def record_accepted(accepted: Accepted, holder: str) -> None:
    """Record an accepted touch: sent, its timeline entry, and what follows from it."""
    if fast_path.mark_sent(fast_path_record(accepted), holder):
        after_sent(accepted.sent, accepted.at)


def sent_summary(sent: SentTouch, how: str = "sent") -> str:
    return f"Touch {sent.step} {how} to {sent.email}: {sent.subject}"


def sent_data(sent: SentTouch) -> dict[str, Any]:
    return {"touch_id": sent.touch_id, "message_id": sent.message_id, "step": sent.step}


def record_sent(
    sent: SentTouch, now: datetime, *, actor: User | None = None, how: str = "sent"
) -> None:
    """Record the effects of a sent touch: timeline, pipeline, follow-up times, completion."""
    fast_path.add_sent_touchpoint(
        prospect_id=sent.prospect_id,
        at=now,
        summary=sent_summary(sent, how),
        actor_id=actor.id if actor is not None else None,
        data=sent_data(sent),
    )
    after_sent(sent, now, actor=actor)


def changes_more(sent: SentTouch, now: datetime) -> bool:
    """Say whether after_sent has anything to write for this send (pure: no database)."""
    return (
        _moves_prospect(sent)
        or sent.step >= sent.last_step  # the enrollment completes
        or not _follow_ups_on_time(sent, now)
    )


def _moves_prospect(sent: SentTouch) -> bool:
    return sent.prospect_status in (ProspectStatus.NEW, ProspectStatus.QUALIFIED)


def _follow_ups_on_time(sent: SentTouch, sent_at: datetime) -> bool:
    """Say whether the next step is already far enough after this send (no step: yes)."""
    if len(sent.offsets) <= sent.step:
        return True
    if sent.next_due_at is None:
        return False  # not known: look at the steps
    earliest = _earliest_follow_up(sent, sent.step + 1, (sent.step, sent_at))
    return sent.next_due_at >= earliest - PUSH_TOLERANCE


def after_sent(sent: SentTouch, now: datetime, *, actor: User | None = None) -> None:
    """Move the prospect to "contacted", keep follow-ups' gaps, complete the enrollment."""
    if _moves_prospect(sent):
        prospect = db.session.get(Prospect, sent.prospect_id)
        if prospect is not None:
            change_status(
                prospect, ProspectStatus.CONTACTED, actor=actor, reason="first touch sent", at=now
            )
    if sent.step >= sent.last_step:
        _run(sql.complete_enrollment(), {"eid": sent.enrollment_id})
    else:
        _push_follow_ups(sent, now)


def _earliest_follow_up(sent: SentTouch, step: int, previous: tuple[int, datetime]) -> datetime:
    gap = sent.offsets[step - 1] - sent.offsets[previous[0] - 1]
    return sent.window.next_slot(follow_up_not_before(previous[1], gap, sent.tz), sent.tz)


def _push_follow_ups(sent: SentTouch, sent_at: datetime) -> None:
    """Keep each later step at least its gap after this send (a late send pushes them on)."""
    if _follow_ups_on_time(sent, sent_at):
        return  # as nearly every send is: nothing to move
    later = _run(sql.next_unsent(), {"eid": sent.enrollment_id, "step": sent.step}).all()
    previous = (sent.step, sent_at)
    for row in later:
        touch_id, step, due_at = row.id, row.step, row.due_at
        if step > len(sent.offsets):
            break
        earliest = _earliest_follow_up(sent, step, previous)
        if due_at < earliest - PUSH_TOLERANCE:
            _run(sql.move_due(), {"tid": touch_id, "due": earliest})
            due_at = earliest
        previous = (step, due_at)


# ---------------------------------------------------------------------------
# What people do to a touch


def cancel_touch(touch: Touch, actor: User | None = None) -> bool:
    """Cancel a touch that has not gone out; False when it is too late (or already final)."""
    if touch.state not in (TouchState.SCHEDULED, TouchState.RETRY_WAIT, TouchState.CLAIMED):
        return False
    who = f" by {actor.email}" if actor is not None else ""
    result = db.session.execute(
        update(Touch)
        .where(Touch.id == touch.id, Touch.state.in_((*CLAIMABLE, TouchState.CLAIMED)))
        .values(
            state=TouchState.CANCELLED,
            claimed_by=None,
            lease_until=None,
            last_error=f"cancelled{who}",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(touch)
    return result.rowcount == 1  # type: ignore[attr-defined]


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
    from crm.outreach.lifecycle import step_offsets
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
    offsets = step_offsets(enrollment)
    record_sent(
        SentTouch(
            touch_id=touch.id,
            enrollment_id=enrollment.id,
            prospect_id=enrollment.prospect_id,
            prospect_status=enrollment.prospect.status,
            step=touch.step,
            last_step=len(offsets),
            email=enrollment.contact.email,
            subject=touch.subject or "",
            message_id=touch.message_id,
            offsets=offsets,
            tz=resolve_timezone(enrollment.contact.timezone, enrollment.mailbox.timezone),
            window=mailbox_window(enrollment.mailbox),
        ),
        now,
        actor=actor,
        how="marked sent",
    )
    db.session.expire(enrollment)
    db.session.flush()
