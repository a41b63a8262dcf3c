"""The inbox: who sees which inbound message, the JSON shape scripts read, reply outcomes,
assigning a message by hand, and triage (services: flush only).

Who sees what: managers and admins see every message. A specialist sees the
messages matched to prospects of their campaigns and, in triage, the
unmatched messages of the mailboxes linked to one of their campaigns (the
campaign–mailbox links only: enrolling with some other mailbox opens nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.ids import parse_id
from crm.core.prospects import iso
from crm.core.timeline import add_touchpoint, change_status
from crm.extensions import db
from crm.models import (
    Enrollment,
    InboundKind,
    InboundMessage,
    Prospect,
    ProspectStatus,
    ReplyOutcome,
    Role,
    Touch,
    TouchpointKind,
    User,
    utcnow,
)
from crm.models.campaign import campaign_members
from crm.models.inbound import AUTO_KINDS, BOUNCE_KINDS, REPLY_KINDS
from crm.models.outreach import campaign_mailboxes
from crm.replies.effects import apply_effects
from crm.replies.outcome import suggest_outcome

# The inbox's tabs: what each shows.
TABS = {
    "replies": "Replies",
    "triage": "Needs triage",
    "bounces": "Bounces",
    "auto": "Auto-replies",
}
KIND_LABELS = {
    "human_reply": "reply",
    "auto_reply": "auto-reply",
    "ooo": "out of office",
    "bounce_hard": "hard bounce",
    "bounce_soft": "soft bounce",
    "unsubscribe_request": "unsubscribe request",
    "unrelated": "unrelated",
}
# An outcome moves the prospect along the pipeline from these stages only.
_OUTCOME_MOVES = {
    ReplyOutcome.POSITIVE: (
        (ProspectStatus.REPLIED, ProspectStatus.DECLINED),
        ProspectStatus.NEGOTIATING,
    ),
    ReplyOutcome.NEGATIVE: (
        (ProspectStatus.REPLIED, ProspectStatus.NEGOTIATING),
        ProspectStatus.DECLINED,
    ),
}


# --- who sees what ---------------------------------------------------------------------


def _my_campaigns(user: User) -> Any:
    return select(campaign_members.c.campaign_id).where(campaign_members.c.user_id == user.id)


def _my_mailboxes(user: User) -> Any:
    """The mailboxes linked to the user's campaigns: a mailbox merely used by an enrollment of
    theirs does not open its unmatched mail to them (issue 10)."""
    return select(campaign_mailboxes.c.mailbox_id).where(
        campaign_mailboxes.c.campaign_id.in_(_my_campaigns(user))
    )


def visible_to(user: User | None, stmt: Select[Any]) -> Select[Any]:
    """Restrict a select of InboundMessage to what `user` may see (None: the CLI, everything)."""
    if user is None or user.has_role(Role.MANAGER):
        return stmt
    in_my_campaigns = InboundMessage.prospect_id.in_(
        select(Prospect.id).where(Prospect.campaign_id.in_(_my_campaigns(user)))
    )
    my_triage = InboundMessage.prospect_id.is_(None) & InboundMessage.mailbox_id.in_(
        _my_mailboxes(user)
    )
    return stmt.where(or_(in_my_campaigns, my_triage))


def can_see(user: User, message: InboundMessage) -> bool:
    stmt = visible_to(user, select(InboundMessage.id).where(InboundMessage.id == message.id))
    return db.session.scalar(stmt) is not None


def inbox_query(
    user: User | None,
    *,
    tab: str | None = None,
    kinds: Sequence[str] = (),
    campaign_id: int | None = None,
    unmatched: bool = False,
    todo: bool = False,
    include_unrelated: bool = False,
) -> Select[Any]:
    """Select the messages of a tab (or of `kinds`), newest first, as `user` may see them.

    `todo`: replies without an outcome yet. `include_unrelated`: triage also
    lists newsletters and spam nobody needs to look at.
    """
    stmt = select(InboundMessage)
    if tab == "replies":
        stmt = stmt.where(
            InboundMessage.kind.in_(REPLY_KINDS), InboundMessage.prospect_id.is_not(None)
        )
    elif tab == "triage":
        unmatched = True
        stmt = stmt.where(InboundMessage.dismissed_at.is_(None))
        if not include_unrelated:
            stmt = stmt.where(InboundMessage.kind != InboundKind.UNRELATED)
    elif tab == "bounces":
        stmt = stmt.where(InboundMessage.kind.in_(BOUNCE_KINDS))
    elif tab == "auto":
        stmt = stmt.where(InboundMessage.kind.in_(AUTO_KINDS))
    if kinds:
        stmt = stmt.where(InboundMessage.kind.in_([InboundKind(k) for k in kinds]))
    if unmatched:
        stmt = stmt.where(InboundMessage.prospect_id.is_(None))
    if campaign_id is not None:
        stmt = stmt.where(
            InboundMessage.prospect_id.in_(
                select(Prospect.id).where(Prospect.campaign_id == campaign_id)
            )
        )
    if todo:
        stmt = stmt.where(InboundMessage.outcome.is_(None))
    stmt = visible_to(user, stmt)
    return stmt.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())


def count_of(stmt: Select[Any]) -> int:
    return int(
        db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )


def find_messages(ref: str) -> list[InboundMessage]:
    """Find messages by inbox id ("42") or Message-ID (with or without the angle brackets)."""
    text = ref.strip()
    if (inbox_id := parse_id(text)) is not None:
        found = db.session.get(InboundMessage, inbox_id)
        rows = [found] if found is not None else []
    else:
        message_id = text if text.startswith("<") else f"<{text.strip('<>')}>"
        rows = list(
            db.session.scalars(
                select(InboundMessage)
                .where(InboundMessage.message_id == message_id)
                .order_by(InboundMessage.id)
            )
        )
    if not rows:
        raise UserError(f"no inbound message {text!r} (use its id or its Message-ID)")
    return rows


# --- the JSON shape (CONTRACT "An inbound message") ----------------------------------


def inbound_json(m: InboundMessage) -> dict[str, Any]:
    bounce = None
    if m.kind in BOUNCE_KINDS:
        bounce = {"recipient": m.bounce_recipient, "status": m.bounce_status}
    prospect = m.prospect
    return {
        "id": m.id,
        "message_id": m.message_id,
        "from": m.from_address,
        "from_name": m.from_name or None,
        "subject": m.subject,
        "received_at": iso(m.received_at),
        "kind": m.kind.value,
        "evidence": list(m.evidence or []),
        "matched_touch": m.matched_touch.message_id if m.matched_touch is not None else None,
        "match": m.match_method or None,
        "match_detail": m.match_detail or None,
        "prospect": prospect.domain if prospect is not None else None,
        "campaign": prospect.campaign.name if prospect is not None else None,
        "mailbox": m.mailbox.name if m.mailbox is not None else None,
        "folder": m.folder,
        "return_date": m.return_date.isoformat() if m.return_date else None,
        "bounce": bounce,
        "outcome": m.outcome.value if m.outcome else None,
        "suggested_outcome": m.suggested_outcome.value if m.suggested_outcome else None,
        "suggestion_reason": m.suggestion_reason or None,
        "snippet": m.snippet,
        "effects": list(m.effects or []),
        "dismissed": m.dismissed_at is not None,
    }


def inbound_section(prospect: Prospect) -> dict[str, Any]:
    """The `inbound` list of `crm prospects show --format json`, oldest first."""
    rows = db.session.scalars(
        select(InboundMessage)
        .where(InboundMessage.prospect_id == prospect.id)
        .order_by(InboundMessage.received_at, InboundMessage.id)
    ).all()
    return {"inbound": [inbound_json(m) for m in rows]}


# --- what people do with a message -------------------------------------------------------


def set_outcome(
    message: InboundMessage,
    outcome: ReplyOutcome | str,
    *,
    actor: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark a reply positive, neutral or negative; False when it already had that outcome.

    A positive reply moves the prospect from replied (or declined) to
    negotiating, a negative one from replied (or negotiating) to declined.
    """
    try:
        value = ReplyOutcome(str(outcome).strip().lower())
    except ValueError:
        raise UserError(f"unknown outcome {outcome!r}: use positive, neutral or negative") from None
    if message.kind not in REPLY_KINDS:
        label = KIND_LABELS[message.kind.value]
        article = "an" if label[0] in "aeiou" else "a"
        raise UserError(f"only replies get an outcome; message {message.id} is {article} {label}")
    prospect = message.prospect
    if prospect is None:
        raise UserError("assign this message to a prospect first: it waits in triage")
    if message.outcome == value:
        return False
    now = now or utcnow()
    message.outcome = value
    message.outcome_by_id = actor.id if actor is not None else None
    message.outcome_at = now
    why = f"reply from {message.from_address} marked {value.value}"
    move = _OUTCOME_MOVES.get(value)
    if (
        move is None
        or prospect.status not in move[0]
        or not change_status(prospect, move[1], actor=actor, reason=why, at=now)
    ):
        add_touchpoint(prospect, TouchpointKind.NOTE, why.capitalize(), actor=actor, at=now)
    record_audit(
        "inbound.outcome", user=actor, object_type="inbound_message", object_id=message.id,
        outcome=value.value,
    )  # fmt: skip
    db.session.flush()
    return True


def _best_touch(prospect: Prospect, sender: str) -> Touch | None:
    """The touch a hand-assigned message most likely answers: the latest one sent to
    the sender, else the latest one sent to anyone at the prospect."""
    rows = db.session.execute(
        select(Touch, Enrollment)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .where(Enrollment.prospect_id == prospect.id, Touch.sent_at.is_not(None))
        .order_by(Touch.sent_at.desc(), Touch.id.desc())
    ).all()
    to_sender = [t for t, e in rows if e.contact.email == sender]
    if to_sender:
        return to_sender[0]
    return rows[0][0] if rows else None


def assign_to_prospect(
    message: InboundMessage,
    prospect: Prospect,
    *,
    actor: User | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Attach a message to a prospect by hand and run its effects again; return what changed.

    An "unrelated" message assigned by hand becomes a reply: the person who
    assigned it says it answers us.
    """
    now = now or utcnow()
    touch = _best_touch(prospect, message.from_address)
    message.prospect_id = prospect.id
    message.prospect = prospect
    message.matched_touch_id = touch.id if touch is not None else None
    message.enrollment_id = touch.enrollment_id if touch is not None else None
    message.match_method = "manual"
    who = actor.display_name if actor is not None else "the command line"
    message.match_detail = f"assigned to {prospect.domain} by {who}"
    message.dismissed_at = None
    if message.kind == InboundKind.UNRELATED:
        message.kind = InboundKind.HUMAN_REPLY
        message.evidence = [*list(message.evidence or []), f"assigned by hand by {who}"]
        outcome, reason = suggest_outcome(message.snippet, message.subject)
        message.suggested_outcome, message.suggestion_reason = ReplyOutcome(outcome), reason
    db.session.flush()
    db.session.expire(message, ["matched_touch", "enrollment"])
    record_audit(
        "inbound.assign", user=actor, object_type="inbound_message", object_id=message.id,
        prospect=prospect.domain, campaign=prospect.campaign.name,
    )  # fmt: skip
    return apply_effects(message, now=now, actor=actor, again=True)


def dismiss(
    message: InboundMessage, *, actor: User | None = None, now: datetime | None = None
) -> None:
    """Take an unmatched message out of triage (nothing to do about it)."""
    if message.prospect_id is not None:
        raise UserError("this message is matched to a prospect: only triage messages are dismissed")
    message.dismissed_at = now or utcnow()
    record_audit("inbound.dismiss", user=actor, object_type="inbound_message", object_id=message.id)
    db.session.flush()


def prospects_for_assignment(user: User, query: str, *, limit: int = 20) -> list[Prospect]:
    """Prospects whose domain contains `query`, in campaigns `user` may work on."""
    text = query.strip().lower()
    if "@" in text:
        text = text.rpartition("@")[2]
    if not text:
        return []
    stmt = select(Prospect).where(Prospect.domain.contains(text, autoescape=True))
    if not user.has_role(Role.MANAGER):
        stmt = stmt.where(Prospect.campaign_id.in_(_my_campaigns(user)))
    return list(db.session.scalars(stmt.order_by(Prospect.domain, Prospect.id).limit(limit)))
