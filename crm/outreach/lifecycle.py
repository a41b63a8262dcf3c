"""Stopping, pausing and resuming an enrollment (services: flush).

Stopping cancels every touch that has not gone out, including one a sender
holds: its compare-and-set to ``sending`` then fails. Resuming moves overdue
touches on so they keep their order and their gaps.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from crm.core.errors import UserError
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.models import (
    TOUCH_CANCELLABLE,
    Contact,
    Enrollment,
    EnrollmentState,
    StopReason,
    Touch,
    TouchpointKind,
    TouchState,
    User,
    utcnow,
)
from crm.outreach.mailboxes import mailbox_window
from crm.outreach.plan import TouchTiming, replan_touches, sequence_day, step_offsets
from crm.outreach.windows import resolve_timezone

# Enrollments that still occupy a domain: "already in an active sequence".
LIVE_STATES = (EnrollmentState.ACTIVE, EnrollmentState.PAUSED)


def _reason(reason: StopReason | str) -> StopReason:
    try:
        return StopReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in StopReason)
        raise UserError(f"unknown stop reason {reason!r} (use {known})") from None


def _note(enrollment: Enrollment, what: str, actor: User | None, at: datetime) -> None:
    """Put "Sequence for ADDRESS <what>" on the prospect's timeline; flush."""
    text = f"Sequence for {enrollment.contact.email} {what}"
    add_touchpoint(enrollment.prospect, TouchpointKind.NOTE, text, actor=actor, at=at)
    db.session.flush()


def stop_enrollment(
    enrollment: Enrollment,
    reason: StopReason | str,
    actor: User | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Stop an enrollment and cancel its unsent touches; False when it had already ended.

    A touch a sender already holds is cancelled too: its compare-and-set to
    ``sending`` then fails, so it never goes out.
    """
    stop = _reason(reason)
    if enrollment.state not in LIVE_STATES:
        return False
    now = now or utcnow()
    enrollment.state = EnrollmentState.STOPPED
    enrollment.stop_reason = stop
    enrollment.stopped_at = now
    db.session.flush()
    cancelled = db.session.execute(
        update(Touch)
        .where(Touch.enrollment_id == enrollment.id, Touch.state.in_(TOUCH_CANCELLABLE))
        .values(
            state=TouchState.CANCELLED,
            claimed_by=None,
            lease_until=None,
            last_error=f"the enrollment was stopped ({stop.value})",
        )
        .execution_options(synchronize_session=False)
    )
    for touch in enrollment.touches:
        db.session.expire(touch)
    count = int(cancelled.rowcount or 0)  # type: ignore[attr-defined]
    cancelled_note = f" ({count} touches cancelled)" if count else ""
    _note(enrollment, f"stopped: {stop.value}{cancelled_note}", actor, now)
    return True


def pause_enrollment(
    enrollment: Enrollment, actor: User | None = None, *, now: datetime | None = None
) -> bool:
    """Hold an active enrollment's touches until it is resumed; False when not active."""
    if enrollment.state != EnrollmentState.ACTIVE:
        return False
    enrollment.state = EnrollmentState.PAUSED
    _note(enrollment, "paused", actor, now or utcnow())
    return True


def resume_enrollment(
    enrollment: Enrollment, actor: User | None = None, *, now: datetime | None = None
) -> bool:
    """Resume a paused enrollment; overdue touches move on, keeping their order and spacing."""
    if enrollment.state != EnrollmentState.PAUSED:
        return False
    now = now or utcnow()
    enrollment.state = EnrollmentState.ACTIVE
    replan_enrollment(enrollment, now)
    _note(enrollment, "resumed", actor, now)
    return True


def enrollment_offsets(enrollment: Enrollment) -> list[int]:
    """Return the day offsets of the enrollment's steps (the first is 0)."""
    steps = [s.day_offset for s in enrollment.sequence.steps]
    return step_offsets(steps, max([len(steps)] + [t.step for t in enrollment.touches]))


def replan_enrollment(enrollment: Enrollment, now: datetime) -> None:
    """Move the unsent touches so none is due before now, keeping order and gaps."""
    pending = [t for t in enrollment.touches if t.state in TOUCH_CANCELLABLE]
    if not pending:
        return
    timings = [
        TouchTiming(t.step, t.due_at, t.sent_at)
        for t in enrollment.touches
        if t.state in TOUCH_CANCELLABLE or t.sent_at is not None
    ]
    tz = resolve_timezone(enrollment.contact.timezone, enrollment.mailbox.timezone)
    planned = replan_touches(
        timings, enrollment_offsets(enrollment), now, tz, mailbox_window(enrollment.mailbox),
        day=sequence_day(current_app.config),
    )  # fmt: skip
    due = {p.step: p.due_at for p in planned}
    for touch in pending:
        if touch.step in due and touch.state != TouchState.CLAIMED:
            touch.due_at = due[touch.step]


def stop_enrollments_of_address(
    email: str, reason: StopReason | str, actor: User | None = None
) -> int:
    """Stop every live enrollment whose contact has this address, in any campaign."""
    address = email.strip().lower()
    rows = db.session.scalars(
        select(Enrollment)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .where(func.lower(Contact.email) == address, Enrollment.state.in_(LIVE_STATES))
    ).all()
    return sum(bool(stop_enrollment(e, reason, actor)) for e in rows)
