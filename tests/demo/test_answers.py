"""The demo prospects' answers are real mail: the real parser and classifier read them right."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.demo.answers import SCRIPT, Act, SentTouch, act_of, answer, page_html, page_url
from crm.mail.classify import classify
from crm.mail.parse import parse_raw

NOW = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
TOUCH = SentTouch(
    message_id="<t1.abc@sample-site.example>",
    subject="Your kanban guide for roadmapguide.net",
    body="Hi Alex,\nour guide fits your resources page.\nSam",
    to_address="alex@roadmapguide.net",
    from_address="outreach@sample-site.example",
    first_name="Alex",
    domain="roadmapguide.net",
    sent_at=datetime(2026, 11, 6, 9, 59, tzinfo=UTC),
)


def _read(act: Act) -> tuple[object, object]:
    raw = answer(act, TOUCH, NOW, anchor="The complete guide to kanban boards")
    assert raw is not None
    facts = parse_raw(raw)
    return facts, classify(facts, references_us=facts.in_reply_to == TOUCH.message_id, now=NOW)


@pytest.mark.parametrize("act", [Act.PLACED, Act.POSITIVE, Act.NEGATIVE, Act.COLLEAGUE])
def test_people_answer_with_threaded_human_replies(act: Act) -> None:
    facts, verdict = _read(act)
    assert verdict.kind == "human_reply"  # type: ignore[attr-defined]
    assert facts.in_reply_to == TOUCH.message_id  # type: ignore[attr-defined]
    assert facts.subject == f"Re: {TOUCH.subject}"  # type: ignore[attr-defined]


def test_a_colleague_writes_from_another_address_at_the_same_domain() -> None:
    facts, _ = _read(Act.COLLEAGUE)
    assert facts.from_address == "desk@roadmapguide.net"  # type: ignore[attr-defined]


def test_the_out_of_office_states_a_return_date_the_rules_read() -> None:
    _, verdict = _read(Act.OOO)
    assert verdict.kind == "ooo"  # type: ignore[attr-defined]
    assert verdict.return_date == date(2026, 11, 9)  # type: ignore[attr-defined]


def test_the_bounce_is_a_dsn_naming_the_contact_and_returning_our_headers() -> None:
    raw = answer(Act.BOUNCE, TOUCH, NOW)
    assert raw is not None and b"multipart/report; report-type=delivery-status" in raw
    assert f"Message-ID: {TOUCH.message_id}".encode() in raw
    _, verdict = _read(Act.BOUNCE)
    assert verdict.kind == "bounce_hard"  # type: ignore[attr-defined]
    assert verdict.bounce.recipient == TOUCH.to_address  # type: ignore[attr-defined]
    assert verdict.bounce.status == "5.1.1"  # type: ignore[attr-defined]


def test_the_unsubscribe_request_is_recognised() -> None:
    _, verdict = _read(Act.UNSUBSCRIBE)
    assert verdict.kind == "unsubscribe_request"  # type: ignore[attr-defined]


def test_a_silent_prospect_writes_nothing() -> None:
    assert answer(Act.SILENT, TOUCH, NOW) is None


def test_the_placed_link_is_on_the_page_the_reply_names() -> None:
    raw = answer(Act.PLACED, TOUCH, NOW, anchor="Kanban guide")
    assert raw is not None and page_url("roadmapguide.net").encode() in raw
    html = page_html("roadmapguide.net", "https://sample-site.example/kanban-guide", "Kanban guide")
    assert '<a href="https://sample-site.example/kanban-guide">Kanban guide</a>' in html


def test_a_dozen_enrollments_show_every_kind_of_answer() -> None:
    assert {act_of(n)[0] for n in range(1, 13)} == set(Act)
    assert all(step >= 1 for act, step in SCRIPT if act is not Act.SILENT)
