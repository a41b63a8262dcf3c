"""What each SMTP answer does to a touch, its enrollment, contact and mailbox (DESIGN §5).

- 250: sent; a touchpoint on the prospect's timeline; the prospect moves to
  "in sequence"; later steps keep their gaps after this send;
- 4xx: retry_wait with backoff (same Message-ID), failed after the last try;
  unless the server could not even be reached: then the touch simply waits
  for the next pass and the mailbox stops for this one;
- 5xx for the recipient: hard bounce, the address suppressed, the contact
  marked bounced, the enrollment stopped;
- 5.7.x / authentication / TLS: the mailbox paused with the reason, the touch
  back in the queue, nothing suppressed;
- a connection lost after the message went out: uncertain;
- any other 5xx: failed.

The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from crm.core.suppression import suppress
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.mail.smtp_outcome import OutcomeKind, SendOutcome, Stage, retry_delay
from crm.models import Contact, Enrollment, StopReason, TouchpointKind, TouchState
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
    row: Row[Any],
    outcome: SendOutcome,
    *,
    holder: str,
    attempts: int,
    now: datetime,
    sent: outbox.SentTouch,
) -> Applied:
    """Record one SMTP outcome of a held touch (see the module docstring)."""
    summary = outcome.summary()
    kind = outcome.kind
    if kind is OutcomeKind.ACCEPTED:
        outbox.mark_sent(sent, holder, summary, now)
        return Applied("sent")
    if kind is OutcomeKind.RETRY and outcome.stage in _UNREACHABLE:
        note = f"cannot reach the SMTP server: {summary}"
        outbox.finish(row.id, holder, TouchState.SCHEDULED, note, claimed_by=None)
        return Applied("deferred", stop_mailbox=True)
    if kind is OutcomeKind.RETRY:
        return _retry(row, summary, holder=holder, attempts=attempts, now=now)
    if kind is OutcomeKind.HARD_BOUNCE:
        return _hard_bounce(row, summary, holder=holder, attempts=attempts, now=now)
    if kind is OutcomeKind.PAUSE_MAILBOX:
        note = f"not sent, the mailbox was paused: {summary}"
        outbox.finish(row.id, holder, TouchState.SCHEDULED, note, claimed_by=None)
        return Applied(
            "mailboxes_paused",
            stop_mailbox=True,
            pause_reason=f"the SMTP server refused the mailbox: {summary}",
        )
    if kind is OutcomeKind.UNCERTAIN:
        note = f"{summary}: {outbox.UNCERTAIN_NOTE}"
        outbox.finish(
            row.id, holder, TouchState.UNCERTAIN, note, smtp_reply=summary, attempts=attempts
        )
        return Applied("uncertain")
    outbox.finish(
        row.id,
        holder,
        TouchState.FAILED,
        f"refused: {summary}",
        smtp_reply=summary,
        attempts=attempts,
    )
    return Applied("failed")


def _retry(row: Row[Any], summary: str, *, holder: str, attempts: int, now: datetime) -> Applied:
    delay = retry_delay(attempts)
    if delay is None:
        note = f"gave up after {attempts} temporary failures: {summary}"
        outbox.finish(
            row.id, holder, TouchState.FAILED, note, smtp_reply=summary, attempts=attempts
        )
        return Applied("failed")
    due = now + delay
    outbox.finish(
        row.id,
        holder,
        TouchState.RETRY_WAIT,
        f"temporary failure (attempt {attempts}), next try {due:%Y-%m-%d %H:%M} UTC: {summary}",
        smtp_reply=summary,
        attempts=attempts,
        due_at=due,
        claimed_by=None,
    )
    return Applied("retry")


def _hard_bounce(
    row: Row[Any], summary: str, *, holder: str, attempts: int, now: datetime
) -> Applied:
    note = f"hard bounce: {summary}"
    if not outbox.finish(
        row.id, holder, TouchState.FAILED, note, smtp_reply=summary, attempts=attempts
    ):
        return Applied("failed")
    suppress(row.email, note[:200])
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
    return Applied("bounced")
