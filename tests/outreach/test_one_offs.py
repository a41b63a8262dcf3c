"""One-off messages go through the outbox and the send pass, to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.core.errors import UserError
from crm.core.suppression import is_suppressed, suppress
from crm.extensions import db
from crm.models import (
    AnchorType,
    InboundKind,
    InboundMessage,
    OneOffMessage,
    ReclamationState,
    ReclamationTask,
    Touch,
    Touchpoint,
    TouchState,
    WonLink,
)
from crm.outreach.one_offs import follow_up_on_thread, queue_one_off, reply_to_inbound
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import (
    enrolled_campaign,
    send_pass,
)

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Any, server: SmtpTestServer) -> dict[str, Any]:
    return enrolled_campaign(server, 2, NOW)


def _one_off(message_id: int) -> OneOffMessage:
    found = db.session.get(OneOffMessage, message_id)
    assert found is not None
    return found


def test_a_message_to_a_teammate_is_sent_once_with_its_headers(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    queued = queue_one_off(
        mailbox=world["mailbox"], to_email="maria@linkgap.example", to_name="Maria",
        subject="Your weekly report", body="12 links won this week.", prospect=None,
        actor=None, now=NOW,
    )  # fmt: skip
    db.session.commit()

    assert send_pass(app, NOW)["sent"] == 3  # the digest and both first touches

    received = [m for m in server.messages if m.message_id == queued.message_id]
    assert len(received) == 1
    message = received[0].message
    assert received[0].rcpt_tos == ["maria@linkgap.example"]
    assert str(message["Subject"]) == "Your weekly report"
    assert str(message["To"]) == "Maria <maria@linkgap.example>"
    assert message["In-Reply-To"] is None
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert "12 links won this week." in message.get_content()
    sent = _one_off(queued.id)
    assert sent.state == TouchState.SENT and sent.sent_at == NOW

    send_pass(app, NOW + timedelta(hours=1))
    assert server.message_ids().count(queued.message_id) == 1


def test_a_reply_goes_on_the_thread_from_the_mailbox_it_went_out_from(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    send_pass(app, NOW)
    enrollment = world["e"][0]
    first = db.session.scalars(
        select(Touch).where(Touch.enrollment_id == enrollment.id, Touch.step == 1)
    ).one()
    inbound = InboundMessage(
        mailbox_id=enrollment.mailbox_id,
        message_id="<answer-1@site0.example>",
        in_reply_to=first.message_id,
        references=first.message_id,
        from_address="editor@site0.example",
        from_name="Sam Lee0",
        subject=f"Re: {first.subject}",
        kind=InboundKind.HUMAN_REPLY,
        received_at=NOW + timedelta(hours=1),
        prospect_id=enrollment.prospect_id,
        enrollment_id=enrollment.id,
        evidence=[],
    )
    db.session.add(inbound)
    db.session.commit()

    reply = reply_to_inbound(inbound, "Thanks, Sam: here is the link.", None, NOW)
    db.session.commit()
    assert send_pass(app, NOW + timedelta(hours=2))["sent"] == 1

    message = next(m for m in server.messages if m.message_id == reply.message_id).message
    assert str(message["Subject"]) == f"Re: {first.subject}"
    assert str(message["In-Reply-To"]) == "<answer-1@site0.example>"
    assert str(message["References"]).split() == [first.message_id, "<answer-1@site0.example>"]
    assert str(message["From"]) == "Ana Lopez <outreach@sample-site.example>"
    timeline = db.session.scalars(
        select(Touchpoint).where(Touchpoint.prospect_id == enrollment.prospect_id)
    ).all()
    assert any(t.data.get("one_off_id") == reply.id for t in timeline)


def test_a_suppressed_address_gets_nothing_and_a_hard_bounce_suppresses(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    suppress("gone.example", "asked never to be written to")
    server.script.rcpt("nobody@linkgap.example", "550 5.1.1 no such user", forever=True)
    kept = queue_one_off(
        mailbox=world["mailbox"], to_email="editor@gone.example", to_name="", subject="Hello",
        body="Hi", prospect=None, actor=None, now=NOW,
    )  # fmt: skip
    bounced = queue_one_off(
        mailbox=world["mailbox"], to_email="nobody@linkgap.example", to_name="",
        subject="Hello", body="Hi", prospect=None, actor=None, now=NOW,
    )  # fmt: skip
    db.session.commit()

    counts = send_pass(app, NOW)

    assert counts["cancelled"] == 1 and counts["bounced"] == 1
    assert _one_off(kept.id).state == TouchState.CANCELLED
    assert kept.message_id not in server.message_ids()
    assert _one_off(bounced.id).state == TouchState.FAILED
    assert is_suppressed("nobody@linkgap.example")


def test_a_one_off_cut_off_mid_conversation_becomes_uncertain_and_stays_unsent(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    queued = queue_one_off(
        mailbox=world["mailbox"], to_email="maria@linkgap.example", to_name="", subject="Hi",
        body="Hi", prospect=None, actor=None, now=NOW,
    )  # fmt: skip
    queued.state, queued.claimed_by = TouchState.SENDING, "dead:1"
    queued.lease_until = NOW + timedelta(minutes=10)
    db.session.commit()

    assert send_pass(app, NOW + timedelta(minutes=11))["recovered_uncertain"] == 1
    for hours in (1, 30):
        send_pass(app, NOW + timedelta(hours=hours))
    assert _one_off(queued.id).state == TouchState.UNCERTAIN
    assert queued.message_id not in server.message_ids()


def test_a_header_breaking_subject_is_refused_when_queued(world: dict[str, Any]) -> None:
    with pytest.raises(UserError, match="line break"):
        queue_one_off(
            mailbox=world["mailbox"], to_email="maria@linkgap.example", to_name="",
            subject="Hi\r\nBcc: everyone@example.com", body="x", prospect=None, actor=None,
            now=NOW,
        )  # fmt: skip


def test_a_lost_links_follow_up_goes_on_the_original_thread_once(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    send_pass(app, NOW)
    enrollment = world["e"][1]
    first = db.session.scalars(
        select(Touch).where(Touch.enrollment_id == enrollment.id, Touch.step == 1)
    ).one()
    prospect = world["prospects"][1]
    link = WonLink(
        campaign_id=world["campaign"].id,
        prospect_id=prospect.id,
        source_url="https://site1.example/best-gantt-templates",
        target_url="https://sample-site.example/templates/gantt-chart",
        anchor_type=AnchorType.EXACT,
        placed_on=date(2026, 11, 20),
    )
    db.session.add(link)
    db.session.flush()
    task = ReclamationTask(campaign_id=world["campaign"].id, prospect_id=prospect.id, won_link=link)
    db.session.add(task)
    db.session.commit()

    message = follow_up_on_thread(task, actor=None, now=NOW + timedelta(days=20))
    db.session.commit()
    assert task.one_off_id == message.id and task.state == ReclamationState.SENT
    with pytest.raises(UserError, match="already queued"):
        follow_up_on_thread(task, actor=None, now=NOW + timedelta(days=20))

    assert send_pass(app, NOW + timedelta(days=20))["sent"] >= 1
    received = next(m for m in server.messages if m.message_id == message.message_id)
    assert received.rcpt_tos == ["editor@site1.example"]
    assert str(received.message["In-Reply-To"]) == first.message_id
    assert str(received.message["Subject"]).startswith("Re: ")
    assert "no longer on the page" in received.message.get_content()
