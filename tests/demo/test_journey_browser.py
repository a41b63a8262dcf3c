"""The specialist's loop in Chromium on the live demo: mail out, a reply in, a link won.

The worker's passes run in the test, one at a time: the sender delivers to the
sandbox's SMTP server, the made-up prospects answer into its IMAP server, the
real poller reads them. Everything a person does happens in the browser: read the
demo's mail, find the replies in the Inbox, mark one positive with its button, log
the link another announces (the app checks the prospect's page on the sandbox)
and read the dashboard. Screenshots of each screen at 1366 and 390 px.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.demo import DEMO_TEAM
from crm.demo.simulator import answer_touches
from crm.models import InboundMessage, LinkState, ReplyOutcome, WonLink, utcnow
from crm.replies.poll_pass import PollSettings, run_poll_pass
from tests.outreach.factories import send_pass

pytestmark = pytest.mark.browser


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("CRM_TEST_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"journey-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def _reply(db: Any, words: str) -> InboundMessage:
    for message in db.session.scalars(select(InboundMessage)):
        if words in (message.snippet or ""):
            return message
    raise AssertionError(f"no reply says {words!r}")


def test_a_specialist_sees_mail_go_out_a_reply_come_in_and_wins_a_verified_link(
    app: Flask, db: Any, live_demo: Path, live_server: str, page: Any
) -> None:
    email, _name, _role, password = DEMO_TEAM[1]
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")

    # The worker sends: the demo's mail shows what reached the sandbox.
    assert send_pass(app, utcnow())["sent"] == 12
    page.click("#demo-notice a")
    page.wait_for_url(f"{live_server}/demo/mail")
    assert page.locator("main table tbody tr").count() == 12
    _shot(page, "demo-mail")

    # The prospects answer by IMAP; the poller reads their replies into the Inbox.
    assert answer_touches(live_demo, utcnow(), delay=timedelta(0)) > 0
    run_poll_pass(settings=PollSettings(connect_timeout=5, read_timeout=10))
    db.session.expire_all()
    page.goto(f"{live_server}/inbox")
    asking = _reply(db, "Which anchor text would you like?")
    row = page.locator(f"#message-{asking.id}")
    assert row.is_visible()
    _shot(page, "inbox")
    row.locator("button[value=positive]").click()
    page.wait_for_selector(f"#message-{asking.id} button[value=positive][aria-pressed=true]")
    db.session.expire_all()
    assert db.session.get(InboundMessage, asking.id).outcome == ReplyOutcome.POSITIVE

    # Another prospect says the link is up: log it from the reply; the app checks the page.
    placed = _reply(db, "I have added it to our resources")
    page.locator(f"#message-{placed.id} a.log-link").click()
    page.wait_for_selector("input[name=source_url]")
    domain = placed.prospect.domain
    page.fill("input[name=source_url]", f"http://{domain}/resources/")
    target = placed.prospect.target_page.url
    page.fill("input[name=target_url]", target)
    page.fill("input[name=anchor]", placed.prospect.target_page.title)
    _shot(page, "log-link")
    page.click("main button[type=submit]:has-text('Save and check the page')")
    page.wait_for_load_state()
    db.session.expire_all()
    link = db.session.scalar(select(WonLink).where(WonLink.prospect_id == placed.prospect_id))
    assert link is not None and link.state == LinkState.LIVE, link and link.state
    assert re.search(r"\blive\b", page.content(), re.I)
    _shot(page, "won-link")

    page.goto(f"{live_server}/reports")
    assert page.locator("main").is_visible()
    _shot(page, "dashboard")
