"""Outreach history for report tests: enrollments with sent touches, replies, won links."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from crm.extensions import db
from crm.models import (
    AnchorType,
    Contact,
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    Mailbox,
    Prospect,
    ReplyOutcome,
    StopReason,
    Touch,
    TouchState,
    User,
    WonLink,
)
from crm.outreach.sequences import sequence_for_angle

_ids = itertools.count(1)


def enrollment(
    prospect: Prospect,
    contact: Contact,
    mailbox: Mailbox,
    *,
    angle: str,
    sent: list[datetime],
    planned: int = 4,
    created_by: User | None = None,
    stop_reason: StopReason | None = None,
) -> Enrollment:
    """An enrollment whose first len(sent) touches went out at those times; the rest wait."""
    sequence = sequence_for_angle(angle)
    state = EnrollmentState.STOPPED if stop_reason else EnrollmentState.ACTIVE
    row = Enrollment(
        prospect=prospect, contact=contact, sequence=sequence, mailbox=mailbox, angle=angle,
        state=state, stop_reason=stop_reason, created_by_id=created_by.id if created_by else None,
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    start = sent[0] if sent else datetime(2026, 1, 5, 9, 0).astimezone()
    for step in range(1, planned + 1):
        when = sent[step - 1] if step <= len(sent) else start + timedelta(days=4 * step)
        done = step <= len(sent)
        state_of = TouchState.SENT if done else (
            TouchState.CANCELLED if stop_reason else TouchState.SCHEDULED
        )  # fmt: skip
        db.session.add(
            Touch(
                enrollment_id=row.id,
                step=step,
                message_id=f"<r{next(_ids)}@sample-site.example>",
                state=state_of,
                due_at=when,
                sent_at=when if done else None,
            )
        )
    db.session.flush()
    return row


def touch_of(row: Enrollment, step: int) -> Touch:
    found = next(t for t in row.touches if t.step == step)
    return found


def inbound(
    row: Enrollment,
    step: int,
    kind: InboundKind,
    at: datetime,
    *,
    sender: str | None = None,
    outcome: ReplyOutcome | None = None,
    method: str = "in_reply_to",
) -> InboundMessage:
    """A message matched to the touch at `step` of an enrollment."""
    touch = touch_of(row, step)
    message = InboundMessage(
        mailbox_id=row.mailbox_id, message_id=f"<in{next(_ids)}@mail.example>",
        in_reply_to=touch.message_id, from_address=sender or row.contact.email,
        subject="Re: hello", received_at=at, kind=kind, matched_touch_id=touch.id,
        enrollment_id=row.id, prospect_id=row.prospect_id, match_method=method, outcome=outcome,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    return message


def won_link(
    prospect: Prospect,
    placed_on: date,
    *,
    anchor_type: AnchorType = AnchorType.PARTIAL,
    target_url: str | None = None,
    **changes: Any,
) -> WonLink:
    link = WonLink(
        campaign_id=prospect.campaign_id, prospect_id=prospect.id,
        source_url=f"https://{prospect.domain}/post-{next(_ids)}",
        target_url=target_url or "https://sample-site.example/guide",
        anchor="a guide", anchor_type=anchor_type, placed_on=placed_on, **changes,
    )  # fmt: skip
    db.session.add(link)
    db.session.flush()
    return link
