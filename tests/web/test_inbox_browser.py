"""The inbox in a real Chromium: marking reply outcomes with the keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import InboundMessage, ReplyOutcome
from tests.conftest import PASSWORD
from tests.replies.factories import deliver, enroll_and_send_first, make_world, reply

pytestmark = pytest.mark.browser


def test_specialist_marks_two_replies_with_one_keystroke_each(
    app: Flask, team: dict[str, Any], live_server: str, page: Any
) -> None:
    world = make_world(None, None, ["older.example.com", "newer.example.com"],
                       specialist=team["specialist"])  # fmt: skip
    enroll_and_send_first(app, world, transport="memory")
    older = deliver(world.mailbox, reply(world.touch("older.example.com"),
                    sender="editor@older.example.com", message_id="<a@older>"), uid=1)  # fmt: skip
    newer = deliver(world.mailbox, reply(world.touch("newer.example.com"),
                    sender="editor@newer.example.com", message_id="<b@newer>",
                    body="Not interested, sorry."), uid=2)  # fmt: skip
    assert older is not None and newer is not None
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["specialist"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/inbox")

    first = page.locator("tr[data-message]").first
    assert first.get_attribute("class") and "selected" in (first.get_attribute("class") or "")
    order = [r.get_attribute("data-message") for r in page.locator("tr[data-message]").all()]
    page.keyboard.press("1")  # the selected (first) row: positive
    page.locator(f"#message-{order[0]} button.outcome-positive.chosen").wait_for()
    page.keyboard.press("n")  # the selection moved on by itself: negative
    page.locator(f"#message-{order[1]} button.outcome-negative.chosen").wait_for()
    page.keyboard.press("k")
    page.keyboard.press("2")  # back up and change the first to neutral
    page.locator(f"#message-{order[0]} button.outcome-neutral.chosen").wait_for()

    db.session.expire_all()
    outcomes = {m.id: m.outcome for m in db.session.query(InboundMessage)}
    assert outcomes[int(order[0] or 0)] == ReplyOutcome.NEUTRAL
    assert outcomes[int(order[1] or 0)] == ReplyOutcome.NEGATIVE
