"""Angles and their sequences in the database: finding, adding, editing steps.

An angle is the reason a prospect should link to us (DESIGN §3); every angle has
its own sequence. The built-in angles and their default sequences are created by
the migration 0016_builtin_sequences; teams add their own angles, which only
need a unique slug and a label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Angle, Sequence, SequenceStep
from crm.outreach.templates import TemplateProblem, validate_template

MAX_STEPS = 8
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass
class StepInput:
    day_offset: int
    subject: str
    body: str


def angle_slug(text: str) -> str:
    """Return the slug of an angle label or slug: "Broken link" -> "broken-link"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if not slug:
        raise ValueError(f"angle name {text!r} has no letters or digits")
    return slug


def find_angle(slug_or_label: str) -> Angle:
    """Look an angle up by slug or label ("resource replacement" or "resource-replacement")."""
    try:
        slug = angle_slug(slug_or_label)
    except ValueError as exc:
        raise UserError(str(exc), field="angle") from None
    angle = db.session.scalar(select(Angle).where(Angle.slug == slug))
    if angle is None:
        known = ", ".join(a.label for a in db.session.scalars(select(Angle).order_by(Angle.label)))
        raise UserError(f"unknown angle {slug_or_label!r}: choose one of {known}", field="angle")
    return angle


def sequence_for_angle(slug_or_label: str) -> Sequence:
    """Return an angle's sequence (the migration and add_angle give every angle one)."""
    sequence = find_angle(slug_or_label).sequence
    assert sequence is not None
    return sequence


def add_angle(label: str, hint: str = "") -> Angle:
    """Add a team's own angle with a one-step empty sequence to fill in."""
    label = label.strip()
    try:
        slug = angle_slug(label)
    except ValueError as exc:
        raise UserError(str(exc), field="label") from None
    if db.session.scalar(select(Angle.id).where(Angle.slug == slug)) is not None:
        raise UserError(f"an angle called {label!r} already exists", field="label")
    angle = Angle(slug=slug, label=label.lower(), hint=hint.strip(), builtin=False)
    angle.sequence = Sequence(steps=[])
    db.session.add(angle)
    db.session.flush()
    return angle


def step_problems(steps: list[StepInput]) -> list[tuple[int, TemplateProblem]]:
    """Return (position, problem) for every step whose templates do not render."""
    found: list[tuple[int, TemplateProblem]] = []
    for position, step in enumerate(steps, start=1):
        subject = step.subject if position == 1 else (step.subject or "")
        for problem in validate_template(subject or "x", step.body):
            found.append((position, problem))
    return found


def save_sequence_steps(sequence: Sequence, steps: list[StepInput]) -> None:
    """Replace a sequence's steps after checking offsets and templates."""
    if not steps:
        raise UserError("a sequence needs at least one step", field="steps")
    if len(steps) > MAX_STEPS:
        raise UserError(f"a sequence has at most {MAX_STEPS} steps", field="steps")
    if not steps[0].subject.strip():
        raise UserError("the first step needs a subject", field="steps")
    previous = -1
    for position, step in enumerate(steps, start=1):
        if step.day_offset <= previous:
            raise UserError(
                f"step {position}: day offsets must increase (day {step.day_offset} after "
                f"day {previous})",
                field="steps",
            )
        previous = step.day_offset
    problems = step_problems(steps)
    if problems:
        position, problem = problems[0]
        raise UserError(f"step {position}: {problem}", field="steps")
    existing = {s.position: s for s in sequence.steps}
    for position, step in enumerate(steps, start=1):
        row = existing.pop(position, None) or SequenceStep(position=position)
        row.day_offset = step.day_offset
        row.subject_template = step.subject
        row.body_template = step.body
        if row not in sequence.steps:
            sequence.steps.append(row)
    for leftover in existing.values():
        sequence.steps.remove(leftover)
    db.session.flush()
