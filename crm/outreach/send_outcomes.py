"""What each SMTP answer does to a touch or one-off message, its recipient and mailbox (DESIGN §5).

- 250: sent (``accepted`` records it: timeline, pipeline, later steps);
- 4xx: retry_wait with backoff (same Message-ID), failed after the last try;
  unless the server could not even be reached: then the message simply waits
  for the next pass and the mailbox stops for this one;
- 5xx for the recipient: hard bounce: failed, and ``bounced`` suppresses the
  address (for a touch also: contact marked bounced, enrollment stopped);
- 5.7.x / authentication / TLS: the mailbox paused with the reason, the message
  back in the queue, nothing suppressed;
- a connection lost after the message went out: uncertain;
- any other 5xx: failed.

The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from crm.core.suppression import suppress
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.mail.smtp_outcome import OutcomeKind, SendOutcome, Stage, retry_delay
from crm.models import Contact, Enrollment, StopReason, Touch, TouchpointKind, TouchState
from crm.outreach import outbox
from crm.outreach.lifecycle import stop_enrollment


@dataclass(frozen=True)
class Applied:
    """What the pass must note after an outcome: a count, and whether the mailbox stops."""

    count: str
    stop_mailbox: bool = False
    pause_reason: str | None = None


_UNREACHABLE = (Stage.CONNECT, Stage.TLS, Stage.AUTH)


def apply_outcome(
    message_id: int,
    outcome: SendOutcome,
    *,
    holder: str,
    attempts: int,
    now: datetime,
    accepted: Callable[[str], object],
    bounced: Callable[[str], object],
    model: outbox.Outgoing = Touch,
) -> Applied:
    """Record one SMTP outcome of a held message (see the module docstring)."""
    summary = outcome.summary()
    kind = outcome.kind

    def finish(state: TouchState, note: str, **values: Any) -> bool:
        return outbox.finish(message_id, holder, state, note, model=model, **values)

    if kind is OutcomeKind.ACCEPTED:
        accepted(summary)
        return Applied("sent")
    if kind is OutcomeKind.RETRY and outcome.stage in _UNREACHABLE:
        finish(TouchState.SCHEDULED, f"cannot reach the SMTP server: {summary}", claimed_by=None)
        return Applied("deferred", stop_mailbox=True)
    if kind is OutcomeKind.PAUSE_MAILBOX:
        finish(
            TouchState.SCHEDULED, f"not sent, the mailbox was paused: {summary}", claimed_by=None
        )
        reason = f"the SMTP server refused the mailbox: {summary}"
        return Applied("mailboxes_paused", stop_mailbox=True, pause_reason=reason)
    answered = {"smtp_reply": summary, "attempts": attempts}
    if kind is OutcomeKind.RETRY:
        delay = retry_delay(attempts)
        if delay is None:
            note = f"gave up after {attempts} temporary failures: {summary}"
            finish(TouchState.FAILED, note, **answered)
            return Applied("failed")
        due = now + delay
        note = (
            f"temporary failure (attempt {attempts}), next try {due:%Y-%m-%d %H:%M} UTC: {summary}"
        )
        finish(TouchState.RETRY_WAIT, note, due_at=due, claimed_by=None, **answered)
        return Applied("retry")
    if kind is OutcomeKind.HARD_BOUNCE:
        if finish(TouchState.FAILED, f"hard bounce: {summary}", **answered):
            bounced(summary)
            return Applied("bounced")
        return Applied("failed")
    if kind is OutcomeKind.UNCERTAIN:
        finish(TouchState.UNCERTAIN, f"{summary}: {outbox.UNCERTAIN_NOTE}", **answered)
        return Applied("uncertain")
    finish(TouchState.FAILED, f"refused: {summary}", **answered)
    return Applied("failed")


def touch_bounced(row: Row[Any], summary: str, now: datetime) -> None:
    """Suppress a touch's address, mark its contact bounced and stop its enrollment."""
    suppress(row.email, f"hard bounce: {summary}"[:200])
    contact = db.session.get(Contact, row.contact_id)
    if contact is not None:
        contact.bounced_at = now
    enrollment = db.session.get(Enrollment, row.enrollment_id)
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
