"""Template rendering: merge fields, missing values, limits and sandbox escapes."""

from __future__ import annotations

import time

import pytest

from crm.outreach.merge_fields import MERGE_FIELDS, SAMPLE_CONTEXT
from crm.outreach.templates import (
    MAX_BODY_SOURCE,
    TemplateProblem,
    render_body,
    render_subject,
    validate_template,
)

CTX = {
    "contact": {"first_name": "Sarah", "last_name": "Lee", "email": "sarah@pmtoolsreview.com"},
    "prospect": {"domain": "pmtoolsreview.com", "evidence_url": "https://pmtoolsreview.com/g"},
    "target": {"url": "https://example-planner.com/t", "title": "Gantt template"},
    "sender": {"name": "Alex Morgan", "email": "alex@example-planner.com"},
    "campaign": {"name": "Q4", "site": "example-planner.com"},
}


def test_merge_fields_render_from_plain_nested_mappings() -> None:
    body = render_body(
        "Hi {{ contact.first_name }},\n\nYour page {{ prospect.evidence_url }} ...\n"
        "{{ target.url }}\n\n{{ sender.name }}",
        CTX,
    )
    assert body == (
        "Hi Sarah,\n\nYour page https://pmtoolsreview.com/g ...\n"
        "https://example-planner.com/t\n\nAlex Morgan\n"
    )


def test_contact_name_defaults_to_first_and_last_name() -> None:
    assert render_body("{{ contact.name }}", CTX) == "Sarah Lee\n"


def test_every_documented_merge_field_renders_in_the_sample_context() -> None:
    for field in MERGE_FIELDS:
        assert render_body("{{ " + field.path + " }}", SAMPLE_CONTEXT) == field.example + "\n"


def test_missing_value_raises_naming_the_merge_field() -> None:
    ctx = {**CTX, "contact": {"email": "sarah@pmtoolsreview.com"}}
    with pytest.raises(TemplateProblem) as info:
        render_body("Hi {{ contact.first_name }},", ctx)
    assert 'missing merge field "contact.first_name"' in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_value_names_the_line_it_is_on() -> None:
    ctx = {**CTX, "contact": {"email": "sarah@pmtoolsreview.com"}}
    with pytest.raises(TemplateProblem) as info:
        render_body("Hello,\n\nThanks {{ contact.first_name }}", ctx)
    assert info.value.line == 3
    assert str(info.value) == 'body line 3: missing merge field "contact.first_name"'


def test_blank_value_counts_as_missing_so_nothing_says_hi_comma() -> None:
    ctx = {**CTX, "contact": {"first_name": "   ", "email": "x@y.z"}}
    with pytest.raises(TemplateProblem, match=r"contact\.first_name"):
        render_body("Hi {{ contact.first_name }},", ctx)


def test_default_filter_and_is_defined_handle_missing_values() -> None:
    ctx = {**CTX, "contact": {"email": "x@y.z"}}
    assert render_body('Hi {{ contact.first_name|default("there") }},', ctx) == "Hi there,\n"
    source = "{% if contact.role is defined %}As {{ contact.role }}{% else %}Hello{% endif %}"
    assert render_body(source, ctx) == "Hello\n"


def test_unknown_merge_field_is_refused_with_a_suggestion() -> None:
    with pytest.raises(TemplateProblem) as info:
        render_body("Hi {{ first_name }}", CTX)
    assert 'unknown merge field "first_name"' in str(info.value)
    assert 'did you mean "contact.first_name"' in str(info.value)
    with pytest.raises(TemplateProblem, match=r'"contact\.frist_name"'):
        render_body("Hi {{ contact.frist_name }}", CTX)


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateProblem) as info:
        render_body("Hi\n\n{{ contact.first_name ", CTX)
    assert info.value.line == 3
    assert "syntax error" in str(info.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__class__ }}",
        "{{ contact._values }}",
        "{{ ''|attr('__class__') }}",
        "{{ contact|attr('_values') }}",
        "{{ '{0.__class__}'.format(contact) }}",
        "{{ '{0._values}'.format_map(contact) }}",
        "{{ '%s'|format(contact) }}",
        "{{ range(10**9) }}",
        "{{ 10**10**10 }}",
        "{{ 'x' * 1000000000 }}",
        "{{ contact.first_name|center(1000000000) }}",
        "{% for i in range(10) %}x{% endfor %}",
        "{% set a = contact.first_name %}{% set a = a ~ a %}{{ a }}",
        "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "{{ lipsum(1000) }}",
        "{{ cycler }}",
        "{% include 'x' %}",
        "{% extends 'x' %}",
        "{{ contact['first_name'] }}",
        "{{ self }}",
        "{{ config }}",
    ],
)
def test_sandbox_escapes_and_expensive_constructs_raise_and_render_nothing(source: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateProblem) as info:
        render_body("before " + source + " after", CTX)
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(info.value)


def test_sandbox_escape_in_a_subject_is_refused_too() -> None:
    with pytest.raises(TemplateProblem, match="subject"):
        render_subject("{{ ''.__class__ }}", CTX)


@pytest.mark.parametrize(
    "value", ["a\r\nBcc: victim@example.org", "a\nb", "a\rb", "a\x00b", "a\u2028b"]
)
def test_subject_refuses_line_breaks_and_control_characters_from_merge_values(value: str) -> None:
    ctx = {**CTX, "contact": {"first_name": value}}
    with pytest.raises(TemplateProblem, match="one line"):
        render_subject("Hello {{ contact.first_name }}", ctx)


def test_subject_template_itself_must_be_one_line() -> None:
    with pytest.raises(TemplateProblem, match="one line"):
        render_subject("Hello\nBcc: x@y.z", CTX)


def test_empty_subject_renders_empty_for_follow_ups() -> None:
    assert render_subject("", CTX) == ""


def test_oversized_template_is_refused() -> None:
    with pytest.raises(TemplateProblem, match="longer than"):
        render_body("x" * (MAX_BODY_SOURCE + 1), CTX)


def test_output_limit_stops_huge_merge_values() -> None:
    ctx = {**CTX, "contact": {"first_name": "x" * 300}}
    with pytest.raises(TemplateProblem, match="result is longer"):
        render_subject("{{ contact.first_name }}", ctx)


def test_validate_template_lists_problems_of_both_parts() -> None:
    problems = validate_template("{{ contact.nope }}", "{{ ''.__class__ }}")
    assert [p.part for p in problems] == ["subject", "body"]
    assert validate_template("Hi {{ contact.first_name }}", "Body {{ target.url }}") == []


def test_validate_template_against_a_chosen_prospect_reports_missing_values() -> None:
    ctx = {**CTX, "prospect": {"domain": "pmtoolsreview.com"}}
    problems = validate_template("x", "see {{ prospect.evidence_url }}", ctx)
    assert [str(p) for p in problems] == [
        'body line 1: missing merge field "prospect.evidence_url"'
    ]


def test_unknown_merge_root_in_the_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown merge root"):
        render_body("x", {"secrets": {"a": "b"}})
