"""The inbox in a real Chromium: marking reply outcomes by keyboard and by clicking, and the
message page at phone width."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import InboundMessage, ReplyOutcome
from tests.conftest import PASSWORD
from tests.outreach.factories import enroll_and_send_first, make_world
from tests.replies.factories import deliver, reply
from tests.replies.forged import EDITOR_A, A, french_unsubscribe

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CRM_TEST_SCREENSHOTS")  # a folder: keep the screenshots to look at


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


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


def _sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_clicking_each_outcome_button_records_that_outcome(
    app: Flask, team: dict[str, Any], live_server: str, page: Any
) -> None:
    domains = ["one.example.com", "two.example.com", "three.example.com"]
    world = make_world(None, None, domains, specialist=team["specialist"])
    enroll_and_send_first(app, world, transport="memory")
    for uid, domain in enumerate(domains, 1):
        raw = reply(world.touch(domain), sender=f"editor@{domain}", message_id=f"<r@{domain}>")
        assert deliver(world.mailbox, raw, uid=uid) is not None
    _sign_in(page, live_server, team["specialist"].email)
    page.goto(f"{live_server}/inbox")

    rows = [r.get_attribute("data-message") for r in page.locator("tr[data-message]").all()]
    wanted = dict(zip(rows, ["positive", "neutral", "negative"], strict=True))
    for row, outcome in wanted.items():
        page.click(f"#message-{row} button.outcome-{outcome}")
        page.locator(f"#message-{row} button.outcome-{outcome}.chosen").wait_for()
    # A row's outcome changes by clicking another of its buttons, after the row was swapped.
    first = rows[0]
    page.click(f"#message-{first} button.outcome-negative")
    page.locator(f"#message-{first} button.outcome-negative.chosen").wait_for()
    wanted[first] = "negative"

    db.session.expire_all()
    outcomes = {str(m.id): m.outcome for m in db.session.query(InboundMessage)}
    assert {k: v.value if v else None for k, v in outcomes.items()} == wanted
    assert "unknown outcome" not in page.content()


def test_message_page_outcome_card_fits_a_phone(
    app: Flask, team: dict[str, Any], live_server: str, page: Any
) -> None:
    world = make_world(None, None, ["narrow.example.com"], specialist=team["specialist"])
    enroll_and_send_first(app, world, transport="memory")
    message = deliver(world.mailbox, reply(world.touch("narrow.example.com"),
                      sender="editor@narrow.example.com", message_id="<n@narrow>"))  # fmt: skip
    assert message is not None
    _sign_in(page, live_server, team["specialist"].email)

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/inbox/messages/{message.id}")
        card = page.locator("#outcome")
        overflow = card.evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 0, f"the outcome card overflows by {overflow}px at {width}px"
        box = card.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        main = page.evaluate("document.querySelector('main').scrollWidth")
        assert main <= width, f"the message page is {main}px wide at {width}px"
    page.click("#outcome button.outcome-positive")
    page.locator("#outcome button.outcome-positive.chosen").wait_for()


def test_a_french_unsubscribe_shows_the_stopped_sequence_and_the_suppression(
    app: Flask, team: dict[str, Any], live_server: str, page: Any
) -> None:
    world = make_world(None, None, [A], specialist=team["specialist"])
    enroll_and_send_first(app, world, transport="memory")
    message = deliver(world.mailbox, french_unsubscribe(world))
    assert message is not None
    _sign_in(page, live_server, team["specialist"].email)

    page.goto(f"{live_server}/inbox")
    row = page.locator(f"#message-{message.id}")
    assert "unsubscribe request" in row.inner_text()
    assert 'says "ne plus m\'écrire"' in row.inner_text()
    effects = row.locator("ul.effects").inner_text()
    assert f"{EDITOR_A} is never emailed again" in effects
    assert "stopped the sequence" in effects
    db.session.expire_all()
    assert world.enrollment(A).state.value == "stopped"


def test_inbox_and_message_page_are_usable_at_phone_width(
    app: Flask, team: dict[str, Any], live_server: str, page: Any
) -> None:
    world = make_world(None, None, [A], specialist=team["specialist"])
    enroll_and_send_first(app, world, transport="memory")
    message = deliver(world.mailbox, reply(world.touch(A), sender=EDITOR_A,
                      message_id="<phone@pmtoolsreview.com>"))  # fmt: skip
    assert message is not None
    _sign_in(page, live_server, team["specialist"].email)

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for name, path in (("inbox", "/inbox"), ("message", f"/inbox/messages/{message.id}")):
            page.goto(f"{live_server}{path}")
            widest = page.evaluate(
                "Math.max(...[...document.querySelectorAll('main > *')].map(e => e.scrollWidth))"
            )
            assert widest <= width, f"{name} is {widest}px wide at {width}px"
            _shot(page, f"{name}-{width}")
    page.goto(f"{live_server}/inbox")
    row = page.locator(f"#message-{message.id}")
    for text in (EDITOR_A, A, "reply"):
        assert text in row.inner_text()
    button = row.locator("button.outcome-positive")
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    button.click()
    row.locator("button.outcome-positive.chosen").wait_for()
