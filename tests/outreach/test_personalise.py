"""Personalising a touch before it goes, and first emails held for review until approved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Touch, TouchState
from crm.outreach import personalise
from tests.outreach.factories import (
    SMTP_LOGIN,
    enroll_all,
    make_campaign,
    make_mailbox,
    make_prospects,
    send_pass,
)

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def _first(enrollment: Any) -> Touch:
    return next(t for t in enrollment.touches if t.step == 1)


def test_an_edited_first_email_is_sent_as_edited_and_the_sequence_is_untouched(
    app: Flask, smtp_server_factory: Any
) -> None:
    server = smtp_server_factory(auth=SMTP_LOGIN)
    campaign, target = make_campaign()
    make_mailbox(server)
    prospects = make_prospects(campaign, target, 2)
    enrollments = enroll_all(prospects, NOW).enrolled
    touch = _first(enrollments[0])
    before = personalise.draft(touch)
    assert "editor" not in before.body and "Hi Sam" in before.body  # rendered for its prospect
    personalise.personalise(
        touch, "Your Gantt list, {{ contact.first_name }}", "Hi Sam,\n\nA note only for you.\n\nAna"
    )
    db.session.commit()

    assert send_pass(app, LATER)["sent"] == 2
    by_rcpt = {m.rcpt_tos[0]: m.message for m in server.messages}
    edited = by_rcpt["editor@site0.example"]
    assert edited["Subject"] == "Your Gantt list, Sam"
    assert "A note only for you." in edited.get_body(("plain",)).get_content()
    other = by_rcpt["editor@site1.example"]
    assert "A note only for you." not in other.get_body(("plain",)).get_content()
    step = enrollments[0].sequence.steps[0]
    assert "A note only for you." not in step.body_template


def test_an_edit_that_would_not_render_is_refused_and_nothing_is_kept(app: Flask) -> None:
    campaign, target = make_campaign()
    make_mailbox(None)
    touch = _first(enroll_all(make_prospects(campaign, target, 1), NOW).enrolled[0])
    with pytest.raises(UserError, match=r'unknown merge field "contact\.nickname"'):
        personalise.personalise(touch, "Hi", "Hello {{ contact.nickname }}")
    assert touch.body_override is None
    touch.state = TouchState.SENT
    with pytest.raises(UserError, match="only an email still to send can be changed"):
        personalise.personalise(touch, "Hi", "Hello")


def test_needs_review_holds_first_emails_until_approved(
    app: Flask, smtp_server_factory: Any
) -> None:
    server = smtp_server_factory(auth=SMTP_LOGIN)
    campaign, target = make_campaign()
    make_mailbox(server)
    personalise.set_needs_review(campaign, True)
    enrollment = enroll_all(make_prospects(campaign, target, 1), NOW).enrolled[0]
    first = _first(enrollment)
    assert first.held_for_review
    assert not any(t.held_for_review for t in enrollment.touches if t.step > 1)

    assert send_pass(app, LATER).get("sent", 0) == 0
    assert server.messages == []

    assert personalise.approve([first]) == 1
    db.session.commit()
    assert send_pass(app, LATER + timedelta(minutes=1))["sent"] == 1
    assert len(server.messages) == 1
