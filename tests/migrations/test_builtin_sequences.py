"""The built-in angles and their 4-touch sequences that migration 0016 creates: one per
angle, short, specific, one ask; and every fresh database holds them."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pytest
from sqlalchemy import select

from crm.models import Angle
from crm.outreach.merge_fields import SAMPLE_CONTEXT
from crm.outreach.templates import render_body, render_subject, validate_template
from tests.builtins import builtin_sequences

BUILTIN_ANGLES = builtin_sequences().BUILTIN_ANGLES


class Rendered(NamedTuple):
    subject: str
    body: str


def render_touch(subject: str, body: str, context: Any) -> Rendered:
    return Rendered(render_subject(subject, context), render_body(body, context))


DEFAULT_SEQUENCES = builtin_sequences().DEFAULT_SEQUENCES

# Only what a prospect always has: the fallbacks must cover every other field.
MINIMAL_CONTEXT = {
    "contact": {"email": "editor@pmtoolsreview.com"},
    "prospect": {
        "domain": "pmtoolsreview.com",
        "evidence_url": "https://pmtoolsreview.com/best-gantt-chart-templates",
    },
    "target": {"url": "https://example-planner.com/templates/gantt-chart"},
    "sender": {"name": "Alex Morgan"},
    "campaign": {"site": "example-planner.com"},
}

ALL_STEPS = [
    pytest.param(slug, index, id=f"{slug}-step{index + 1}")
    for slug, steps in DEFAULT_SEQUENCES.items()
    for index in range(len(steps))
]


def test_builtin_angles_are_the_seven_of_the_design_vocabulary() -> None:
    assert [a.label for a in BUILTIN_ANGLES] == [
        "resource replacement",
        "coverage gap",
        "unlinked mention",
        "broken link",
        "skyscraper",
        "guest post",
        "roundup inclusion",
    ]
    assert len({a.slug for a in BUILTIN_ANGLES}) == 7


def test_every_builtin_angle_has_a_four_step_sequence_on_days_1_4_9_14() -> None:
    assert set(DEFAULT_SEQUENCES) == {a.slug for a in BUILTIN_ANGLES}
    for steps in DEFAULT_SEQUENCES.values():
        assert tuple(s.offset_days for s in steps) == (0, 3, 8, 13)


@pytest.mark.postgres
def test_a_fresh_database_holds_every_builtin_angle_with_its_sequence(db: Any) -> None:
    angles = db.session.scalars(select(Angle).order_by(Angle.id)).all()
    assert [(a.slug, a.label, a.hint, a.builtin) for a in angles] == [
        (a.slug, a.label, a.hint, True) for a in BUILTIN_ANGLES
    ]
    for angle in angles:
        assert angle.sequence is not None
        stored = [(s.day_offset, s.subject_template, s.body_template) for s in angle.sequence.steps]
        assert stored == [(s.offset_days, s.subject, s.body) for s in DEFAULT_SEQUENCES[angle.slug]]


def test_the_migration_adds_only_the_builtin_angles_an_installation_lacks(db: Any) -> None:
    db.session.query(Angle).filter(Angle.slug == "skyscraper").delete()
    db.session.commit()
    with db.engine.begin() as conn:
        builtin_sequences().insert_builtin_sequences(conn)
        builtin_sequences().insert_builtin_sequences(conn)
    db.session.expire_all()
    slugs = db.session.scalars(select(Angle.slug)).all()
    assert sorted(slugs) == sorted(a.slug for a in BUILTIN_ANGLES)


@pytest.mark.parametrize(("slug", "index"), ALL_STEPS)
def test_each_body_renders_under_150_words_with_the_sample_context(slug: str, index: int) -> None:
    step = DEFAULT_SEQUENCES[slug][index]
    touch = render_touch(step.subject, step.body, SAMPLE_CONTEXT)
    assert len(touch.body.split()) < 150
    assert "{{" not in touch.body and "{%" not in touch.body
    assert touch.body.startswith("Hi Sarah,\n\n")
    assert touch.body.rstrip().endswith("Alex Morgan")


@pytest.mark.parametrize(("slug", "index"), ALL_STEPS)
def test_each_step_renders_with_only_the_required_fields(slug: str, index: int) -> None:
    step = DEFAULT_SEQUENCES[slug][index]
    touch = render_touch(step.subject, step.body, MINIMAL_CONTEXT)
    assert touch.body.startswith("Hi there,\n\n")
    assert "None" not in touch.body and "  " not in touch.body


@pytest.mark.parametrize("slug", list(DEFAULT_SEQUENCES))
def test_first_touch_names_the_exact_page_and_our_page_and_makes_one_ask(slug: str) -> None:
    first = DEFAULT_SEQUENCES[slug][0]
    touch = render_touch(first.subject, first.body, SAMPLE_CONTEXT)
    assert SAMPLE_CONTEXT["target"]["url"] in touch.body
    if slug != "guest-post":
        assert SAMPLE_CONTEXT["prospect"]["evidence_url"] in touch.body
    assert touch.subject and len(touch.subject) <= 80
    assert len(re.findall(r"\?(\s|$)", touch.body)) == 1, "one ask, one question"


@pytest.mark.parametrize("slug", list(DEFAULT_SEQUENCES))
def test_follow_ups_are_shorter_than_the_first_touch_and_have_no_subject(slug: str) -> None:
    steps = DEFAULT_SEQUENCES[slug]
    words = [len(render_touch(s.subject, s.body, SAMPLE_CONTEXT).body.split()) for s in steps]
    assert all(w < words[0] for w in words[1:])
    assert all(w <= 60 for w in words[1:])
    assert all(s.subject == "" for s in steps[1:])


@pytest.mark.parametrize("slug", list(DEFAULT_SEQUENCES))
def test_each_follow_up_adds_something_new_instead_of_repeating(slug: str) -> None:
    bodies = [render_touch(s.subject, s.body, SAMPLE_CONTEXT).body for s in DEFAULT_SEQUENCES[slug]]
    middles = [b.split("\n\n", 1)[1].rsplit("\n\nThanks,", 1)[0] for b in bodies]
    assert len(set(middles)) == len(middles)


@pytest.mark.parametrize("slug", list(DEFAULT_SEQUENCES))
def test_defaults_pass_the_editor_validation(slug: str) -> None:
    for step in DEFAULT_SEQUENCES[slug]:
        assert validate_template(step.subject, step.body) == []
