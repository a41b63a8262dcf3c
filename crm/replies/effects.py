"""Apply what an inbound message changes in the outreach (DESIGN §6); services: flush only.

`crm.replies.effect_rules.decide_effects` says what must change; this module does
it: stop sequences (with the sending engine's `stop_enrollment`), suppress
addresses, mark bounced contacts, move the next touch after an out-of-office,
move the prospect to "replied", write the timeline and notify the specialist.
Everything is read back from the stored `InboundMessage`, so the same code runs
after a poll and again after someone assigns a message to a prospect by hand.
Effects run once per message (`effects_applied_at`) unless asked to run again;
every step is idempotent, so running again never stops or suppresses twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import func, select, update

from crm.core.errors import UserError
from crm.core.suppression import suppress
from crm.core.timeline import add_touchpoint, change_status
from crm.extensions import db
from crm.mail.classify import BounceInfo, Classification, Kind
from crm.models import (
    Contact,
    Enrollment,
    InboundKind,
    InboundMessage,
    Prospect,
    ProspectStatus,
    Touch,
    TouchpointKind,
    TouchState,
    User,
)
from crm.models.inbound import BOUNCE_KINDS
from crm.outreach.lifecycle import LIVE_STATES, stop_enrollment, stop_enrollments_of_address
from crm.replies.effect_rules import Effects, decide_effects
from crm.replies.matching import Match, MatchMethod, TouchRef
from crm.replies.notifications import notify_about_reply

# A reply moves the prospect to "replied" only from these; later stages stay.
_BEFORE_REPLIED = (ProspectStatus.NEW, ProspectStatus.QUALIFIED, ProspectStatus.IN_SEQUENCE)
# Touches an out-of-office may move: not yet claimed by a sender.
_MOVABLE = (TouchState.SCHEDULED, TouchState.RETRY_WAIT)
_SNIPPET_IN_TIMELINE = 400


def classification_of(message: InboundMessage) -> Classification:
    """Rebuild the classification stored on a message."""
    kind: Kind = message.kind.value
    bounce = None
    if message.kind in BOUNCE_KINDS:
        bounce = BounceInfo(
            message.bounce_recipient, message.bounce_status, message.kind == InboundKind.BOUNCE_HARD
        )
    return Classification(kind, list(message.evidence or []), bounce, message.return_date)


def match_of(message: InboundMessage) -> Match | None:
    """Rebuild the match of a message: its touch, or (assigned by hand) just its prospect."""
    touch: Touch | None = message.matched_touch
    if touch is not None:
        enrollment = touch.enrollment
        ref = TouchRef(
            touch_id=touch.id,
            enrollment_id=enrollment.id,
            prospect_id=enrollment.prospect_id,
            contact_email=enrollment.contact.email,
            message_id=touch.message_id,
            sent_at=touch.sent_at,
            step=touch.step,
        )
    elif message.prospect_id is not None:
        ref = TouchRef(0, 0, message.prospect_id, message.from_address, "", None)
    else:
        return None
    method = cast(MatchMethod, message.match_method or "sender")
    return Match(ref, method, message.match_detail)


def next_touch(enrollment: Enrollment) -> Touch | None:
    """Return the enrollment's next touch that has not been claimed for sending."""
    return db.session.scalar(
        select(Touch)
        .where(Touch.enrollment_id == enrollment.id, Touch.state.in_(_MOVABLE))
        .order_by(Touch.step)
        .limit(1)
    )


def apply_effects(
    message: InboundMessage, *, now: datetime, actor: User | None = None, again: bool = False
) -> list[str]:
    """Apply a message's effects once (or `again`, after a manual assignment); return what changed.

    The lines are stored on the message (`effects`) for the inbox to show.
    """
    if message.effects_applied_at is not None and not again:
        return list(message.effects or [])
    enrollment: Enrollment | None = message.enrollment
    prospect: Prospect | None = message.prospect
    stop_all = bool(prospect.campaign.stop_all_on_reply) if prospect is not None else False
    upcoming = next_touch(enrollment) if enrollment is not None else None
    effects = decide_effects(
        classification_of(message),
        match_of(message),
        sender=message.from_address,
        stop_other_enrollments=stop_all,
        next_touch_due=upcoming.due_at if upcoming is not None else None,
        now=now,
    )
    done = _Applier(message, effects, enrollment, prospect, actor, now).run(upcoming)
    message.effects_applied_at = now
    message.effects = done or list(effects.reasons)
    if done:  # nothing else changed: the caller's flush writes the message with the others
        db.session.flush()
    return list(message.effects)


class _Applier:
    """One message's effects, applied in a fixed order; collects a line per change."""

    def __init__(
        self,
        message: InboundMessage,
        effects: Effects,
        enrollment: Enrollment | None,
        prospect: Prospect | None,
        actor: User | None,
        now: datetime,
    ) -> None:
        self.message = message
        self.effects = effects
        self.enrollment = enrollment
        self.prospect = prospect
        self.actor = actor
        self.now = now
        self.done: list[str] = []

    def run(self, upcoming: Touch | None) -> list[str]:
        effects = self.effects
        if effects.stop_enrollment and self.enrollment is not None:
            self._stop(self.enrollment, effects.stop_reason or "replied")
        if effects.stop_other_enrollments and self.prospect is not None:
            self._stop_others(effects.stop_reason or "replied")
        if effects.suppress:
            self._suppress(effects.suppress, effects.suppress_reason or "")
        if effects.mark_contact and effects.suppress:
            self._mark_bounced(effects.suppress)
        if effects.count_soft_bounce and self.enrollment is not None:
            self._count_soft_bounce(self.enrollment)
        if effects.reschedule_next_touch_to is not None and upcoming is not None:
            self._reschedule(upcoming, effects.reschedule_next_touch_to)
        if effects.prospect_status == "replied" and self.prospect is not None:
            self._replied(self.prospect)
        if self.prospect is not None:
            self._timeline(self.prospect)
        if effects.notify_specialist and self.prospect is not None:
            self._notify(self.prospect)
        return self.done

    def _stop(self, enrollment: Enrollment, reason: str) -> None:
        if stop_enrollment(enrollment, reason, self.actor, now=self.now):
            self.done.append(f"stopped the sequence of {enrollment.contact.email} ({reason})")

    def _stop_others(self, reason: str) -> None:
        assert self.prospect is not None
        others = db.session.scalars(
            select(Enrollment)
            .where(Enrollment.prospect_id == self.prospect.id, Enrollment.state.in_(LIVE_STATES))
            .order_by(Enrollment.id)
        ).all()
        for other in others:
            if self.enrollment is None or other.id != self.enrollment.id:
                self._stop(other, reason)

    def _suppress(self, address: str, reason: str) -> None:
        if "@" not in address:  # inbound mail never suppresses a whole domain
            self.done.append(f"did not suppress {address}: inbound mail suppresses addresses only")
            return
        try:
            entry = suppress(address, reason, actor=self.actor)
        except UserError as exc:  # a bounce naming a malformed address
            self.done.append(f"could not suppress {address}: {exc.message}")
            return
        self.done.append(f"{entry.value} is never emailed again ({reason})")
        why = "bounced" if self.message.kind == InboundKind.BOUNCE_HARD else "unsubscribed"
        # The same address in other campaigns: stop those sequences with the true reason
        # rather than leave them for the sender to cancel as "suppressed".
        stopped = stop_enrollments_of_address(entry.value, why, self.actor)
        if stopped:
            self.done.append(f"stopped {stopped} other sequence(s) to {entry.value} ({why})")

    def _mark_bounced(self, address: str) -> None:
        marked = db.session.execute(
            update(Contact)
            .where(func.lower(Contact.email) == address.strip().lower())
            .where(Contact.bounced_at.is_(None))
            .values(bounced_at=self.now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount:  # type: ignore[attr-defined]
            self.done.append(f"marked {address} as bounced")

    def _count_soft_bounce(self, enrollment: Enrollment) -> None:
        count = db.session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                InboundMessage.enrollment_id == enrollment.id,
                InboundMessage.kind == InboundKind.BOUNCE_SOFT,
            )
        )
        self.done.append(
            f"soft bounce {count} for {enrollment.contact.email}: the sequence goes on"
        )

    def _reschedule(self, touch: Touch, when: datetime) -> None:
        moved = db.session.execute(
            update(Touch)
            .where(Touch.id == touch.id, Touch.state.in_(_MOVABLE))
            .values(due_at=when)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(touch)
        if moved.rowcount:  # type: ignore[attr-defined]
            back = self.message.return_date
            self.done.append(
                f"step {touch.step} moved to {when:%Y-%m-%d %H:%M} UTC (back on {back})"
            )

    def _replied(self, prospect: Prospect) -> None:
        if prospect.status in _BEFORE_REPLIED:
            change_status(
                prospect,
                ProspectStatus.REPLIED,
                actor=self.actor,
                reason=f"reply from {self.message.from_address}",
                at=self.now,
            )
            self.done.append("prospect moved to replied")

    def _timeline(self, prospect: Prospect) -> None:
        message = self.message
        sender = message.from_address or message.from_name or "unknown sender"
        kind = message.kind
        if kind == InboundKind.HUMAN_REPLY:
            entry, summary = TouchpointKind.REPLY, f"Reply from {sender}: {_short(message)}"
        elif kind == InboundKind.UNSUBSCRIBE_REQUEST:
            entry, summary = TouchpointKind.REPLY, f"{sender} asked not to be contacted"
        elif kind in BOUNCE_KINDS:
            hard = "Hard" if kind == InboundKind.BOUNCE_HARD else "Soft"
            status = f" ({message.bounce_status})" if message.bounce_status else ""
            whom = message.bounce_recipient or sender
            entry, summary = TouchpointKind.BOUNCE, f"{hard} bounce for {whom}{status}"
        elif kind == InboundKind.OOO:
            back = f", back {message.return_date}" if message.return_date else ""
            entry, summary = TouchpointKind.NOTE, f"Out of office from {sender}{back}"
        elif kind == InboundKind.AUTO_REPLY:
            entry, summary = TouchpointKind.NOTE, f"Auto-reply from {sender}"
        else:
            return
        add_touchpoint(
            prospect,
            entry,
            summary,
            actor=self.actor,
            at=message.received_at,
            inbound_message_id=message.id,
            subject=message.subject,
        )

    def _notify(self, prospect: Prospect) -> None:
        told = notify_about_reply(self.message, prospect, now=self.now)
        if told:
            self.done.append("notified " + ", ".join(told))


def _short(message: InboundMessage) -> str:
    text = " ".join((message.snippet or message.subject).split())
    if len(text) > _SNIPPET_IN_TIMELINE:
        text = text[: _SNIPPET_IN_TIMELINE - 1].rstrip() + "…"
    return text
