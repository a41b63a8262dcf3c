"""Personalise a touch before it goes, and hold first emails for review (services: flush).

A touch's own subject/body (``Touch.subject_override`` / ``body_override``) are
templates like a step's, rendered by the sender in their place; the sequence
is untouched. A campaign in "needs review" mode plans each first email held
(``Touch.held_for_review``) until a person approves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm.core.errors import UserError
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.models import TOUCH_QUEUED, Campaign, Touch, TouchpointKind, User, utcnow
from crm.outreach.context import touch_context
from crm.outreach.templates import TemplateProblem, render_body, render_subject, validate_template

REVIEW_SETTING = "review_first_touches"


@dataclass(frozen=True)
class TouchDraft:
    """A touch as it would go now: the templates it uses and their rendering (or the problem)."""

    subject_template: str
    body_template: str
    subject: str
    body: str
    problem: str | None
    personalised: bool


def needs_review(campaign: Campaign) -> bool:
    """Whether the campaign holds first emails until someone approves them."""
    return bool((campaign.settings or {}).get(REVIEW_SETTING))


def set_needs_review(campaign: Campaign, on: bool, *, actor: User | None = None) -> None:
    """Turn the campaign's "needs review" mode on or off (off releases nothing by itself)."""
    campaign.settings = {**(campaign.settings or {}), REVIEW_SETTING: bool(on)}
    db.session.flush()


def _step_templates(touch: Touch) -> tuple[str, str]:
    steps = {s.position: s for s in touch.enrollment.sequence.steps}
    step = steps.get(touch.step)
    if step is None:
        raise UserError(f"step {touch.step} is no longer in the sequence")
    subject = step.subject_template
    if not subject.strip():
        subject = "" if touch.step > 1 else steps[1].subject_template
    return subject, step.body_template


def draft(touch: Touch) -> TouchDraft:
    """Render the touch for its prospect as the sender would (its own text if personalised)."""
    subject_t, body_t = _step_templates(touch)
    subject_t = touch.subject_override or subject_t
    body_t = touch.body_override or body_t
    ctx = touch_context(touch)
    problem = None
    subject = body = ""
    try:
        body = render_body(body_t, ctx)
        subject = render_subject(subject_t, ctx) if subject_t.strip() else ""
    except TemplateProblem as exc:
        problem = str(exc)
    personalised = touch.subject_override is not None or touch.body_override is not None
    return TouchDraft(subject_t, body_t, subject, body, problem, personalised)


def _editable(touch: Touch) -> None:
    if touch.state not in TOUCH_QUEUED:
        raise UserError(f"touch {touch.step} is {touch.state.value.replace('_', ' ')}: "
                        "only an email still to send can be changed")  # fmt: skip


def personalise(touch: Touch, subject: str, body: str, *, actor: User | None = None) -> TouchDraft:
    """Keep this prospect's own subject and body with the touch, checked as the sender renders."""
    _editable(touch)
    ctx = touch_context(touch)
    subject, body = subject.strip(), body.strip()
    if not body:
        raise UserError("the email needs a body", field="body")
    if touch.step == 1 and not subject:
        raise UserError("the first email needs a subject", field="subject")
    problems = validate_template(subject, body, ctx)
    if problems:
        raise UserError(str(problems[0]), field="body")
    touch.subject_override = subject or None
    touch.body_override = body
    add_touchpoint(touch.enrollment.prospect, TouchpointKind.NOTE,
                   f"Touch {touch.step} to {touch.enrollment.contact.email} personalised",
                   actor=actor, touch_id=touch.id)  # fmt: skip
    db.session.flush()
    return draft(touch)


def reset(touch: Touch, *, actor: User | None = None) -> None:
    """Go back to the sequence's text for this touch."""
    _editable(touch)
    touch.subject_override = touch.body_override = None
    db.session.flush()


def approve(touches: Iterable[Touch], *, actor: User | None = None) -> int:
    """Release held first emails to the sender; return how many were approved."""
    count = 0
    now = utcnow()
    for touch in touches:
        if not touch.held_for_review:
            continue
        touch.held_for_review = False
        count += 1
        add_touchpoint(touch.enrollment.prospect, TouchpointKind.NOTE,
                       f"First email to {touch.enrollment.contact.email} approved",
                       actor=actor, at=now, touch_id=touch.id)  # fmt: skip
    db.session.flush()
    return count
