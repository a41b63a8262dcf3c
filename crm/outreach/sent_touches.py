"""Record what a sent touch changes: the timeline, the pipeline, the later steps, completion.

Called once the touch is ``sent`` (by the sender, or by a person who found an
uncertain touch in the Sent folder). Functions here execute statements and
flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from flask import current_app
from sqlalchemy import insert, select, update

from crm.core.timeline import change_status
from crm.extensions import db
from crm.models import (
    TOUCH_QUEUED,
    Enrollment,
    EnrollmentState,
    Prospect,
    ProspectStatus,
    Touch,
    Touchpoint,
    TouchpointKind,
    TouchState,
    User,
)
from crm.outreach.outbox import finish, update_outgoing
from crm.outreach.plan import add_days, sequence_day
from crm.outreach.windows import SendingWindow

# A follow-up is moved on only when a late send would otherwise put it this
# much earlier than its gap; smaller slips are left to the pre-send check.
PUSH_TOLERANCE = timedelta(hours=1)
_BEFORE_OUTREACH = (ProspectStatus.NEW, ProspectStatus.QUALIFIED)


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
            update_outgoing(Touch.id == touch_id, Touch.state.in_(TOUCH_QUEUED), due_at=earliest)
            due_at = earliest
        previous = (step, due_at)
