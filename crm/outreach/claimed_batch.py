"""A claimed batch of touches as the send pass sees it (crm.outreach.sender).

Read once per batch: the do-not-contact entries of its addresses and their
domains, and its prospects' best evidence (the ``sending`` compare-and-set
checks suppressions again in the database, touch by touch). Kept for the
pass: sequences' steps and campaigns' competitors. And the outbox records a
touch's row becomes: ``TouchToSend`` before its SMTP conversation, ``SentTouch``
after the server took it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select

from crm.core.domains import email_domain
from crm.core.suppression import listed_suppressions
from crm.extensions import db
from crm.models import Campaign, Contact, Enrollment, Prospect, Touch
from crm.outreach import outbox
from crm.outreach.context import best_evidence
from crm.outreach.outgoing import Message, StepText, load_steps
from crm.outreach.plan import step_offsets
from crm.outreach.sent_touches import SentTouch
from crm.outreach.windows import SendingWindow, resolve_timezone


@dataclass
class ClaimedBatch:
    suppressed: frozenset[str] = frozenset()  # addresses and registrable domains
    evidence: dict[int, Any] = field(default_factory=dict)  # by prospect id
    steps: dict[int, dict[int, StepText]] = field(default_factory=dict)  # by sequence id
    competitors: dict[int, list[str]] = field(default_factory=dict)  # by campaign id

    def read(self, ids: Sequence[int]) -> None:
        """Read the suppressions and best evidence of a newly claimed batch."""
        rows = db.session.execute(
            select(Contact.email, Enrollment.prospect_id, Prospect.campaign_id)
            .select_from(Touch)
            .join(Enrollment, Enrollment.id == Touch.enrollment_id)
            .join(Contact, Contact.id == Enrollment.contact_id)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Touch.id.in_(ids))
        ).all()
        self.suppressed = listed_suppressions(r.email for r in rows)
        for campaign_id in {r.campaign_id for r in rows} - self.competitors.keys():
            campaign = db.session.get(Campaign, campaign_id)
            self.competitors[campaign_id] = campaign.competitor_domains if campaign else []
        competitors = {r.prospect_id: self.competitors[r.campaign_id] for r in rows}
        self.evidence = best_evidence(competitors.keys(), competitors)

    def steps_of(self, row: Row[Any]) -> tuple[dict[int, StepText], list[int]]:
        """Return the steps of the touch's sequence, and their day offsets."""
        if row.sequence_id not in self.steps:
            self.steps[row.sequence_id] = load_steps(row.sequence_id)
        steps = self.steps[row.sequence_id]
        return steps, step_offsets([steps[p].day_offset for p in sorted(steps)], row.step)


def touch_to_send(row: Row[Any], message: Message) -> outbox.TouchToSend:
    """Return what must still hold when the touch starts going out (outbox.begin_sending)."""
    return outbox.TouchToSend(
        touch_id=row.id,
        enrollment_id=row.enrollment_id,
        prospect_id=row.prospect_id,
        watch_from=row.watch_from,
        stop_all_on_reply=row.stop_all_on_reply,
        email=row.email,
        domain=email_domain(row.email),
        attempts=row.attempts + 1,
        subject=message.subject,
        body=message.body,
    )


def sent_touch(
    row: Row[Any], message: Message, offsets: list[int], mailbox_tz: str, window: SendingWindow
) -> SentTouch:
    """Return what recording the touch as sent needs (sent_touches.mark_sent)."""
    return SentTouch(
        touch_id=row.id,
        enrollment_id=row.enrollment_id,
        prospect_id=row.prospect_id,
        step=row.step,
        last_step=len(offsets),
        email=row.email,
        subject=message.subject,
        message_id=row.message_id,
        offsets=offsets,
        tz=resolve_timezone(row.contact_tz or "", mailbox_tz),
        window=window,
        prospect_status=row.prospect_status,
        next_due_at=row.next_due_at,
    )
