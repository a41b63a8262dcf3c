"""What people do to a touch: cancel one not yet sent, resolve an uncertain one.

An ``uncertain`` touch (the sender stopped during the SMTP conversation) is
never re-sent automatically (DESIGN §5): a person checks the mailbox's Sent
folder, then marks it sent or re-queues it. Functions here flush; the
request commits.
"""

from __future__ import annotations

from datetime import datetime

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import TOUCH_CANCELLABLE, Touch, TouchState, User, utcnow
from crm.outreach.lifecycle import enrollment_offsets
from crm.outreach.mailboxes import mailbox_window
from crm.outreach.outbox import update_outgoing
from crm.outreach.sent_touches import SentTouch, record_sent
from crm.outreach.windows import resolve_timezone


def _by(actor: User | None) -> str:
    return f" by {actor.email}" if actor is not None else ""


def cancel_touch(touch: Touch, actor: User | None = None) -> bool:
    """Cancel a touch that has not gone out; False when it is too late (or already final)."""
    changed = update_outgoing(
        Touch.id == touch.id,
        Touch.state.in_(TOUCH_CANCELLABLE),
        state=TouchState.CANCELLED,
        claimed_by=None,
        lease_until=None,
        last_error=f"cancelled{_by(actor)}",
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
    touch.state = TouchState.SCHEDULED
    touch.due_at = now or utcnow()
    touch.claimed_by = None
    touch.lease_until = None
    touch.last_error = f"re-queued{_by(actor)} after an uncertain send"
    db.session.flush()


def mark_uncertain_sent(
    touch: Touch, actor: User | None = None, *, now: datetime | None = None
) -> None:
    """Record an uncertain touch as sent, because a person found it in the Sent folder."""
    _uncertain(touch)
    now = now or utcnow()
    enrollment = touch.enrollment
    touch.state = TouchState.SENT
    touch.sent_at = now
    touch.claimed_by = None
    touch.lease_until = None
    touch.last_error = f"marked sent{_by(actor)}"
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
