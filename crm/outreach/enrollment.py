"""Enrollments: contacts of prospects going through the sequence of an angle (services: flush).

``enroll`` plans every touch at once, each with its Message-ID under the
sending mailbox's domain, so a retry or a crash never changes which message a
touch is. The sender renders templates at send time from ``touch_context``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from crm.core.errors import UserError
from crm.core.prospects import iso
from crm.core.timeline import add_touchpoint, change_status
from crm.extensions import db
from crm.models import (
    Angle,
    Campaign,
    Contact,
    Enrollment,
    EnrollmentState,
    Mailbox,
    Prospect,
    ProspectStatus,
    Role,
    Touch,
    TouchpointKind,
    TouchState,
    User,
    utcnow,
)
from crm.models.outreach import campaign_mailboxes
from crm.outreach.context import best_evidence, context_for
from crm.outreach.enroll_checks import (
    NOT_ENROLLABLE,
    contact_problem,
    live_contact_emails,
    live_domains,
    require_sender_names,
    with_fix,
)
from crm.outreach.lifecycle import LIVE_STATES
from crm.outreach.mailboxes import mailbox_window, usable_by_member
from crm.outreach.personalise import needs_review
from crm.outreach.plan import plan_touches, sequence_day
from crm.outreach.sequences import find_angle
from crm.outreach.templates import validate_template
from crm.outreach.windows import resolve_timezone


@dataclass(frozen=True)
class Skipped:
    """A prospect (or one of its contacts) left out of an enrollment, and why."""

    domain: str
    email: str | None
    reason: str


@dataclass
class EnrollResult:
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Enrolling


def _mailbox_pool(campaign: Campaign, actor: User | None = None) -> list[Mailbox]:
    """Return the mailboxes a campaign sends from: its own, else unpaused ones the actor may use."""
    linked = db.session.scalars(
        select(Mailbox)
        .join(campaign_mailboxes, campaign_mailboxes.c.mailbox_id == Mailbox.id)
        .where(campaign_mailboxes.c.campaign_id == campaign.id)
        .order_by(Mailbox.id)
    ).all()
    if linked:
        pool = [m for m in linked if not m.paused]
        if not pool:
            raise UserError(
                f"every mailbox of campaign {campaign.name} is paused: resume one first",
                field="mailbox",
            )
        return pool
    usable = select(Mailbox).where(Mailbox.paused.is_(False))
    if actor is not None and not actor.has_role(Role.MANAGER):
        usable = usable.where(usable_by_member(actor.id))
    pool = list(db.session.scalars(usable.order_by(Mailbox.id)))
    if not pool:
        raise UserError(
            "no mailbox to send from: add one (crm mailboxes add) or resume a paused one",
            field="mailbox",
        )
    return pool


class _RoundRobin:
    """Hands out mailboxes, each time the one with the fewest live enrollments."""

    def __init__(self, explicit: Mailbox | None, actor: User | None = None) -> None:
        self.explicit = explicit
        self.actor = actor
        self.load: dict[int, int] = {}  # live enrollments per mailbox, read with the first pool
        self.pools: dict[int, list[Mailbox]] = {}

    def next_for(self, campaign: Campaign) -> Mailbox:
        if self.explicit is not None:
            require_sender_names([self.explicit])
            return self.explicit
        if not self.pools:
            live = select(Enrollment.mailbox_id, func.count()).where(
                Enrollment.state.in_(LIVE_STATES)
            )
            rows = db.session.execute(live.group_by(Enrollment.mailbox_id))
            self.load = {mailbox_id: count for mailbox_id, count in rows}
        if campaign.id not in self.pools:
            self.pools[campaign.id] = _mailbox_pool(campaign, self.actor)
            require_sender_names(self.pools[campaign.id])
        chosen = min(self.pools[campaign.id], key=lambda m: (self.load.get(m.id, 0), m.id))
        self.load[chosen.id] = self.load.get(chosen.id, 0) + 1
        return chosen


def _template_problem(angle: Angle, context: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Render every step once; a problem now would block the touch at send time."""
    assert angle.sequence is not None
    for step in angle.sequence.steps:
        problems = validate_template(step.subject_template, step.body_template, context)
        if problems:
            return with_fix(f"step {step.position}: {problems[0]}")
    return None


def enroll(
    prospects: Iterable[Prospect],
    *,
    angle: str | None = None,
    contacts: Iterable[Contact] | None = None,
    mailbox: Mailbox | None = None,
    allow_active: bool = False,
    actor: User | None = None,
    now: datetime | None = None,
) -> EnrollResult:
    """Enroll contacts of prospects into the sequence of an angle; plan their touches.

    ``angle`` None uses each prospect's own angle. ``contacts`` None takes the
    first contact of each prospect that may be emailed; otherwise exactly the
    given contacts (their prospects are added to ``prospects``). ``mailbox``
    None spreads enrollments over the campaign's mailboxes (all unpaused
    mailboxes when the campaign has none), fewest live enrollments first.
    A domain already in a live sequence in any campaign is skipped unless
    ``allow_active``; a contact already in one always is.
    """
    now = now or utcnow()
    chosen: dict[int, list[Contact]] | None = None
    ordered: dict[int, Prospect] = {p.id: p for p in prospects}
    if contacts is not None:
        chosen = {}
        for contact in contacts:
            chosen.setdefault(contact.prospect_id, []).append(contact)
            ordered.setdefault(contact.prospect_id, contact.prospect)
    angles: dict[str, Angle] = {}
    if angle is not None:
        fixed = find_angle(angle)
        if fixed.sequence is None or not fixed.sequence.steps:
            raise UserError(
                f"the {fixed.label} sequence has no steps: write them first", field="angle"
            )
    result = EnrollResult()
    busy_domains = {} if allow_active else live_domains(p.domain for p in ordered.values())
    all_contacts = [c for p in ordered.values() for c in p.contacts]
    busy_contacts = live_contact_emails(c.email for c in all_contacts)
    mailboxes = _RoundRobin(mailbox, actor)
    evidence = best_evidence(
        ordered, {p.id: p.campaign.competitor_domains for p in ordered.values()}
    )

    for prospect in ordered.values():

        def skip(reason: str, email: str | None = None, prospect: Prospect = prospect) -> None:
            result.skipped.append(Skipped(prospect.domain, email, reason))

        if prospect.status in NOT_ENROLLABLE:
            skip(NOT_ENROLLABLE[prospect.status])
            continue
        if prospect.domain in busy_domains:
            skip(f"already in an active sequence (campaign {busy_domains[prospect.domain]})")
            continue
        slug = angle or prospect.angle
        if not slug:
            skip("no angle set for this prospect")
            continue
        if slug not in angles:
            angles[slug] = find_angle(slug)
        chosen_angle = angles[slug]
        if chosen_angle.sequence is None or not chosen_angle.sequence.steps:
            skip(f"the {chosen_angle.label} sequence has no steps")
            continue
        candidates = chosen.get(prospect.id, []) if chosen is not None else list(prospect.contacts)
        if not candidates:
            skip("no contact" if chosen is None else "no contact chosen")
            continue
        picked: list[Contact] = []
        for contact in candidates:
            problem = contact_problem(contact)
            if problem is None and contact.email in busy_contacts:
                problem = "the contact is already in an active sequence"
            if problem is not None:
                if chosen is not None:
                    skip(problem, contact.email)
                continue
            picked.append(contact)
            if chosen is None:
                break  # one contact per prospect unless they were chosen
        if not picked:
            if chosen is None:
                skip("no contact that may be emailed (suppressed, bounced or busy)")
            continue
        for contact in picked:
            sender = mailboxes.next_for(prospect.campaign)
            context = context_for(contact, prospect, sender, evidence.get(prospect.id))
            problem = _template_problem(chosen_angle, context)
            if problem is not None:
                mailboxes.load[sender.id] = mailboxes.load.get(sender.id, 1) - 1
                skip(problem, contact.email)
                continue
            result.enrolled.append(
                _enroll_one(prospect, contact, chosen_angle, sender, actor=actor, now=now)
            )
            busy_contacts.add(contact.email)
    db.session.flush()
    return result


def _enroll_one(
    prospect: Prospect,
    contact: Contact,
    angle: Angle,
    mailbox: Mailbox,
    *,
    actor: User | None,
    now: datetime,
) -> Enrollment:
    from crm.mail.compose import new_message_id

    sequence = angle.sequence
    assert sequence is not None
    steps = list(sequence.steps)
    offsets = [s.day_offset - steps[0].day_offset for s in steps]
    tz = resolve_timezone(contact.timezone, mailbox.timezone)
    planned = plan_touches(
        now, offsets, tz, mailbox_window(mailbox), day=sequence_day(current_app.config)
    )
    hold_first = needs_review(prospect.campaign)
    enrollment = Enrollment(
        prospect=prospect,
        contact=contact,
        sequence=sequence,
        mailbox=mailbox,
        angle=angle.slug,
        state=EnrollmentState.ACTIVE,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        touches=[
            Touch(
                step=p.step,
                due_at=p.due_at,
                planned_at=now,
                message_id=new_message_id(mailbox.domain),
                state=TouchState.SCHEDULED,
                held_for_review=hold_first and p.step == 1,
            )
            for p in planned
        ],
    )
    db.session.add(enrollment)
    add_touchpoint(
        prospect,
        TouchpointKind.NOTE,
        f"Enrolled {contact.email} in the {angle.label} sequence ({len(planned)} touches "
        f"from {mailbox.from_email})",
        actor=actor,
        at=now,
    )
    # Choosing to write to a prospect qualifies it; "contacted" waits for the first send.
    if prospect.status == ProspectStatus.NEW:
        change_status(prospect, ProspectStatus.QUALIFIED, actor=actor, reason="enrolled", at=now)
    return enrollment


# ---------------------------------------------------------------------------
# `crm prospects show`


def enrollments_section(prospect: Prospect) -> dict[str, Any]:
    """The prospect's enrollments in the CONTRACT shape of `crm prospects show`."""
    rows = db.session.scalars(
        select(Enrollment).where(Enrollment.prospect_id == prospect.id).order_by(Enrollment.id)
    ).all()
    return {
        "enrollments": [
            {
                "contact": e.contact.email,
                "angle": e.angle,
                "state": e.state.value,
                "stop_reason": e.stop_reason.value if e.stop_reason else None,
                "mailbox": e.mailbox.name,
                "touches": [
                    {
                        "step": t.step,
                        "state": t.state.value,
                        "due_at": iso(t.due_at),
                        "sent_at": iso(t.sent_at),
                        "message_id": t.message_id,
                        "error": t.last_error or None,
                    }
                    for t in e.touches
                ],
            }
            for e in rows
        ]
    }
