"""The shipped 4-touch sequences: one per built-in angle, short, specific, one ask."""

from __future__ import annotations

import re

import pytest

from crm.outreach.angles import BUILTIN_ANGLES, DEFAULT_STEP_OFFSETS_DAYS
from crm.outreach.default_sequences import DEFAULT_SEQUENCES, default_sequence
from crm.outreach.templates import SAMPLE_CONTEXT, render_touch, validate_template

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


def test_every_builtin_angle_has_a_four_step_sequence_on_days_1_4_9_14() -> None:
    assert set(DEFAULT_SEQUENCES) == {a.slug for a in BUILTIN_ANGLES}
    for steps in DEFAULT_SEQUENCES.values():
        assert tuple(s.offset_days for s in steps) == DEFAULT_STEP_OFFSETS_DAYS == (0, 3, 8, 13)


def test_default_sequence_accepts_a_label_or_a_slug() -> None:
    assert default_sequence("Resource replacement") is DEFAULT_SEQUENCES["resource-replacement"]
    with pytest.raises(KeyError):
        default_sequence("carrier pigeon")


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
