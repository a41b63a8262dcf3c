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

    Inbound mail is untrusted (DESIGN §6): it changes something only when it is matched
    to a touch we sent, and it suppresses only the address that touch went to, never a
    domain. Everything else waits in triage for a person (`suggest_action`).
    `stop_other_enrollments` is the campaign setting; `next_touch_due` is when the
    enrollment's next scheduled touch is due, if any.
    """
    kind = classification.kind
    if match is None:
        return Effects(
            triage=True,
            reasons=["not matched to any touch we sent: nothing changes; it waits in triage"],
        )
    touch_address = match.touch.contact_email.strip().lower()
    if kind == "bounce_hard":
        address = _bounced_address(classification, match, touch_address)
        return Effects(
            stop_enrollment=True, stop_reason="bounced", suppress=address,
            suppress_reason="hard bounce" if address else None,
            mark_contact="bounced" if address else None,
            reasons=[f"hard bounce{f' for {address}' if address else ''}: stop and suppress"],
        )  # fmt: skip
    if kind == "bounce_soft":
        return Effects(
            count_soft_bounce=True,
            reasons=["soft bounce: the sequence goes on; the bounce is counted"],
        )
    if kind == "unsubscribe_request":
        asker = sender.strip().lower()
        own = bool(asker) and asker == touch_address and _is_address(asker)
        reasons = ["unsubscribe request: suppress the sender and stop"]
        if not own:
            reasons = [
                f"unsubscribe request from {asker or 'an unknown sender'}, not {touch_address}:"
                " stop the sequence; suppressing the sender waits for a person"
            ]
        return Effects(
            stop_enrollment=True, stop_reason="unsubscribed",
            stop_other_enrollments=stop_other_enrollments, suppress=asker if own else None,
            suppress_reason="asked not to be contacted" if own else None, reasons=reasons,
        )  # fmt: skip
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


def _is_address(value: str | None) -> bool:
    local, at, host = (value or "").partition("@")
    return bool(local and at and "." in host)


def _bounced_address(
    classification: Classification, match: Match, touch_address: str
) -> str | None:
    """The address a matched hard bounce suppresses: the one our touch went to.

    A message assigned by hand without a touch has only the report's recipient,
    vouched for by the person who assigned it.
    """
    if match.touch.touch_id:
        return touch_address if _is_address(touch_address) else None
    bounce = classification.bounce
    claimed = bounce.recipient.strip().lower() if bounce and bounce.recipient else None
    return claimed if _is_address(claimed) else None


@dataclass(frozen=True)
class SuggestedAction:
    """What a person may confirm in one click for a message that changed nothing by itself."""

    action: Literal["suppress", "assign", "dismiss"]
    address: str | None
    label: str
    why: str


def suggest_action(
    kind: str,
    *,
    matched: bool,
    sender: str,
    touch_address: str | None,
    bounce_recipient: str | None,
) -> SuggestedAction | None:
    """Suggest what to do with a message whose effects were held back; None when done."""
    sender = sender.strip().lower()
    if kind == "unsubscribe_request" and _is_address(sender) and sender != touch_address:
        return SuggestedAction(
            "suppress", sender, f"Suppress {sender}",
            f"{sender} asked not to be contacted, but no touch of ours went to that address",
        )  # fmt: skip
    if kind == "bounce_hard" and not matched:
        recipient = (bounce_recipient or "").strip().lower()
        if _is_address(recipient):
            return SuggestedAction(
                "suppress", recipient, f"Suppress {recipient}",
                f"a mail system reports {recipient} does not exist, but the report matches"
                " no touch we sent",
            )  # fmt: skip
    if matched:
        return None
    if kind in ("human_reply", "unsubscribe_request", "ooo", "auto_reply", "bounce_hard"):
        return SuggestedAction(
            "assign", None, "Assign to a prospect",
            "it matches no touch we sent: assign it to its prospect if it answers one",
        )  # fmt: skip
    return SuggestedAction("dismiss", None, "Dismiss", "nothing in it concerns our outreach")


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
