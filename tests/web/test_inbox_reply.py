"""Replying from the app (issue 15): the reply box of a message goes through the outbox into
the same thread, from the mailbox the conversation went out from, and reads as one
conversation on the prospect page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.models import InboundMessage, OneOffMessage
from tests.conftest import PASSWORD
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import (
    OUR_ADDRESS,
    World,
    enroll_and_send_first,
    make_world,
    send_pass,
)
from tests.replies.factories import deliver, hard_bounce, reply
from tests.replies.forged import EDITOR_A, A

pytestmark = pytest.mark.postgres


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpTestServer]) -> SmtpTestServer:
    """The local SMTP server, taking the reply mailbox's login."""
    return smtp_server_factory(auth=(OUR_ADDRESS, "unused"))


@pytest.fixture
def world(app: Flask, team: dict[str, Any], smtp_server: SmtpTestServer) -> World:
    built = make_world(None, smtp_server, [A], specialist=team["specialist"])
    enroll_and_send_first(app, built)
    return built


def _answer(world: World) -> InboundMessage:
    raw = reply(world.touch(A), sender=EDITOR_A, message_id="<q@pmtoolsreview.com>",
                body="Sure, which anchor text would you like?")  # fmt: skip
    message = deliver(world.mailbox, raw)
    assert message is not None
    return message


def test_a_reply_from_the_message_page_is_sent_in_the_thread_and_shows_in_the_conversation(
    app: Flask, client: Any, world: World, team: dict[str, Any], smtp_server: SmtpTestServer
) -> None:
    message = _answer(world)
    client.login(team["specialist"].email)
    page = f"/inbox/messages/{message.id}"
    assert "Send reply" in client.get(page).get_data(as_text=True)

    response = client.post_form(
        f"/inbox/messages/{message.id}/reply", {"body": "The brand name is perfect, thanks!"},
        page=page,
    )  # fmt: skip

    assert response.status_code == 302
    queued = db.session.scalar(select(OneOffMessage))
    assert queued is not None and queued.to_email == EDITOR_A
    assert queued.in_reply_to == message.message_id and queued.mailbox_id == world.mailbox.id
    assert "queued" in client.get(response.headers["Location"]).get_data(as_text=True)
    before = len(smtp_server.messages)

    send_pass(app)

    sent = smtp_server.messages[before:]
    assert len(sent) == 1
    email = sent[0].message
    assert str(email["In-Reply-To"]).strip() == message.message_id
    assert world.touch(A).message_id in str(email["References"])
    assert str(email["Subject"]).startswith("Re: ")
    assert "The brand name is perfect" in email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    prospect = world.prospect(A)
    conversation = client.get(
        f"/campaigns/{prospect.campaign_id}/prospects/{prospect.id}"
    ).get_data(as_text=True)
    ours = conversation.index("we replied")
    assert conversation.index("Sure, which anchor text") < ours  # their reply, then ours
    assert conversation.index("The brand name is perfect") > ours


def test_an_empty_reply_says_so_next_to_the_field(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _answer(world)
    client.login(team["specialist"].email)
    page = f"/inbox/messages/{message.id}"

    response = client.post_form(f"/inbox/messages/{message.id}/reply", {"body": " "}, page=page)

    assert response.status_code == 200
    assert 'class="field-error" id="body-error">Write the reply first.' in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(OneOffMessage)) is None


def test_a_bounce_has_no_reply_box_and_cannot_be_answered(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    bounce = deliver(
        world.mailbox, hard_bounce(world.touch(A), recipient=EDITOR_A, message_id="<b@mx>")
    )
    assert bounce is not None
    client.login(team["specialist"].email)
    page = f"/inbox/messages/{bounce.id}"
    assert "Send reply" not in client.get(page).get_data(as_text=True)

    client.post_form(f"/inbox/messages/{bounce.id}/reply", {"body": "Hello?"}, page=page)

    assert db.session.scalar(select(OneOffMessage)) is None


def test_the_prospect_page_offers_a_reply_to_the_latest_reply(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _answer(world)
    prospect = world.prospect(A)
    client.login(team["specialist"].email)
    url = f"/campaigns/{prospect.campaign_id}/prospects/{prospect.id}"
    assert f"Reply to {EDITOR_A}" in client.get(url).get_data(as_text=True)

    response = client.post_form(
        f"/inbox/messages/{message.id}/reply", {"body": "Thanks!", "next": url + "#thread"},
        page=url,
    )  # fmt: skip

    assert response.headers["Location"] == url + "#thread"
    assert db.session.scalar(select(OneOffMessage)) is not None


@pytest.mark.browser
def test_specialist_replies_from_the_message_page_in_chromium(
    app: Flask, team: dict[str, Any], smtp_server: SmtpTestServer, live_server: str, page: Any
) -> None:
    world = make_world(None, smtp_server, [A], specialist=team["specialist"])
    enroll_and_send_first(app, world)
    message = _answer(world)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["specialist"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    page.goto(f"{live_server}/inbox/messages/{message.id}")
    page.fill("#reply textarea[name=body]", "Brand anchor please: Sample Site. Thanks!")
    page.click("#reply button[type=submit]")
    page.locator("text=queued").first.wait_for()
    before = len(smtp_server.messages)
    send_pass(app)

    sent = smtp_server.messages[before:]
    assert len(sent) == 1 and str(sent[0].message["In-Reply-To"]).strip() == message.message_id
    page.reload()
    assert "sent" in page.locator("#reply ol.thread").inner_text()
    prospect = world.prospect(A)
    page.goto(f"{live_server}/campaigns/{prospect.campaign_id}/prospects/{prospect.id}")
    thread = page.locator("#thread ol.thread").inner_text()
    assert thread.index("Sure, which anchor text") < thread.index("we replied")
