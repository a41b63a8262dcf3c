"""What an inbound message changes in the outreach: the pure rules (DESIGN §6).

Every decision is returned as plain values (`Effects`) that
`crm.replies.effects` applies and the job or request commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from crm.mail.classify import Classification
from crm.mail.ooo import next_working_day
from crm.replies.matching import Match

StopReason = Literal["replied", "bounced", "unsubscribed"]


@dataclass(frozen=True)
class Effects:
    """What the service must change for one classified message; nothing is applied here."""

    stop_enrollment: bool = False
    stop_reason: StopReason | None = None
    stop_other_enrollments: bool = False
    prospect_status: str | None = None
    suppress: str | None = None
    suppress_reason: str | None = None
    mark_contact: str | None = None
    count_soft_bounce: bool = False
    reschedule_next_touch_to: datetime | None = None
    notify_specialist: bool = False
    triage: bool = False
    reasons: list[str] = field(default_factory=list)


def decide_effects(
    classification: Classification,
    match: Match | None,
    *,
    sender: str,
    stop_other_enrollments: bool,
    next_touch_due: datetime | None,
    now: datetime,
) -> Effects:
    """Decide the effects of a message on its enrollment, prospect, contact and suppressions.

    `stop_other_enrollments` is the campaign setting; `next_touch_due` is when the
    enrollment's next scheduled touch is due, if any.
    """
    kind = classification.kind
    triage = match is None
    bounce = classification.bounce
    if kind == "bounce_hard":
        address = (bounce.recipient if bounce else None) or (
            match.touch.contact_email if match else None
        )
        return Effects(
            stop_enrollment=not triage, stop_reason="bounced" if not triage else None,
            suppress=address, suppress_reason="hard bounce" if address else None,
            mark_contact="bounced" if address else None, triage=triage,
            reasons=[f"hard bounce{f' for {address}' if address else ''}: stop and suppress"],
        )  # fmt: skip
    if kind == "bounce_soft":
        return Effects(
            count_soft_bounce=not triage, triage=triage,
            reasons=["soft bounce: the sequence goes on; the bounce is counted"],
        )  # fmt: skip
    if kind == "unsubscribe_request":
        return Effects(
            stop_enrollment=not triage, stop_reason="unsubscribed" if not triage else None,
            stop_other_enrollments=stop_other_enrollments and not triage, suppress=sender or None,
            suppress_reason="asked not to be contacted", triage=triage,
            reasons=["unsubscribe request: suppress the sender and stop"],
        )  # fmt: skip
    if triage:
        return Effects(triage=True, reasons=["not matched to any touch: waits in triage"])
    if kind == "human_reply":
        return Effects(
            stop_enrollment=True, stop_reason="replied",
            stop_other_enrollments=stop_other_enrollments, prospect_status="replied",
            notify_specialist=True,
            reasons=["human reply: stop the sequence"
                     + (" and the prospect's other sequences" if stop_other_enrollments else "")],
        )  # fmt: skip
    if kind == "ooo":
        return _ooo_effects(classification, next_touch_due, now)
    return Effects(reasons=[f"{kind.replace('_', ' ')}: nothing changes"])


def _ooo_effects(
    classification: Classification, next_touch_due: datetime | None, now: datetime
) -> Effects:
    back = classification.return_date
    if back is None:
        return Effects(reasons=["out of office without a return date: nothing changes"])
    if next_touch_due is None:
        return Effects(reasons=[f"out of office until {back}: no touch left to move"])
    day = next_working_day(back)
    moved = datetime.combine(day, next_touch_due.timetz())
    if moved <= next_touch_due or moved <= now:
        return Effects(reasons=[f"out of office until {back}: the next touch is already later"])
    return Effects(
        reschedule_next_touch_to=moved,
        reasons=[f"out of office until {back}: next touch moved to {day.isoformat()}"],
    )
