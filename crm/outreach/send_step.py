"""One claimed touch made ready to act on: its message rendered and the gate's verdict.

The sender prepares a touch while the server is still answering the message
before it (crm.outreach.sender), so this reads only what may be read then:
the batch's facts, the touch's earlier steps and the mailbox's facts, which
already count the message before it. Whatever may change in between is
checked again by the compare-and-set that starts the send.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from crm.mail.compose import ComposeError
from crm.outreach import outbox
from crm.outreach import send_facts as facts
from crm.outreach.gate import Decision, MailboxFacts, Verdict, decide
from crm.outreach.templates import TemplateProblem
from crm.outreach.windows import draw_jitter


@dataclass(frozen=True)
class Prepared:
    """A touch with its verdict; for SEND also its message, slot and what records it."""

    row: Row[Any]
    now: datetime
    decision: Decision
    message: facts.RenderedMessage | None = None
    slot: outbox.MailboxSlot | None = None
    sent: outbox.SentTouch | None = None


@dataclass(frozen=True)
class Sending:
    """What stays the same for every touch of one mailbox's pass."""

    sender: facts.Sender
    timezone: str  # the mailbox's
    base_url: str
    secret: str
    max_jitter: timedelta
    rng: random.Random


def prepare(
    row: Row[Any],
    batch: facts.BatchFacts,
    evidence: Any | None,
    steps: Mapping[int, facts.StepText],
    mailbox: MailboxFacts,
    sending: Sending,
    now: datetime,
) -> Prepared | None:
    """Render the touch and decide on it; None when its enrollment was deleted meanwhile."""
    earlier = facts.read_earlier_steps(row)
    offsets = facts.step_offsets(steps, row.step)
    message: facts.RenderedMessage | None = None
    problem: str | None = None
    try:
        message = facts.render_message(
            row,
            evidence,
            steps,
            earlier,
            sending.sender,
            now,
            base_url=sending.base_url,
            secret=sending.secret,
        )
    except (TemplateProblem, ComposeError) as exc:
        problem = str(exc)
    touch = facts.touch_facts(row, batch, sending.timezone, earlier, offsets, problem)
    if touch is None:
        return None
    decision = decide(touch, mailbox, now, draw_jitter(sending.max_jitter, sending.rng))
    if decision.verdict is not Verdict.SEND:
        return Prepared(row, now, decision)
    assert message is not None
    day_start, _ = facts.mailbox_day(now, sending.timezone)
    slot = outbox.MailboxSlot(
        sending.sender.mailbox_id, day_start, mailbox.daily_cap, mailbox.min_spacing
    )
    sent = outbox.SentTouch(
        touch_id=row.id,
        enrollment_id=row.enrollment_id,
        prospect_id=row.prospect_id,
        prospect_status=row.prospect_status,
        step=row.step,
        last_step=len(offsets),
        email=row.email,
        subject=message.subject,
        message_id=row.message_id,
        offsets=offsets,
        tz=touch.contact_tz,
        window=sending.sender.window,
        next_due_at=row.next_due_at,
    )
    return Prepared(row, now, decision, message, slot, sent)
