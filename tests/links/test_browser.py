"""In a real Chromium: log a link from a positive reply in the inbox and see it verified live;
the Links page shows its state and the anchor mix. Screenshots at 1366 and 390 px wide."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.models import InboundKind, InboundMessage, LinkState, Mailbox, ReplyOutcome, WonLink
from tests.conftest import PASSWORD
from tests.fixtures.links import Page, PageServer
from tests.links.helpers import make_link_world, page_with, source

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CRM_TEST_SCREENSHOTS")  # a folder: keep the screenshots to look at


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_link_logged_from_a_positive_reply_is_verified_live(
    app: Flask, live_server: str, page: Any, pages: PageServer
) -> None:
    world = make_link_world()
    mailbox = db.session.scalar(select(Mailbox))
    assert mailbox is not None
    reply = InboundMessage(
        mailbox_id=mailbox.id, message_id="<yes@blog.example>", kind=InboundKind.HUMAN_REPLY,
        from_address="editor@blog.example", subject="Re: Free Gantt chart template",
        snippet="Done! We added your template to the list.", prospect_id=world.prospect.id,
        match_method="in_reply_to",
    )  # fmt: skip
    db.session.add(reply)
    db.session.commit()
    pages.routes["/best-gantt-templates"] = Page(page_with(world.target_url))

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", world.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/inbox")
    page.click(f"#message-{reply.id} a.log-link")
    page.fill("#source_url", source(pages))
    page.fill("#anchor", "gantt chart template")
    page.locator("#preview >> text=Suggested anchor type: exact").wait_for()
    _shot(page, "link-form-1366")
    page.click("#link-form button[type=submit]")
    page.locator("h1 .state-live").wait_for()
    assert "link found" in page.content()
    _shot(page, "link-show-1366")

    db.session.expire_all()
    link = db.session.scalar(select(WonLink))
    assert link is not None and link.state == LinkState.LIVE
    assert reply.outcome == ReplyOutcome.POSITIVE

    page.goto(f"{live_server}/links")
    page.locator(".links-table .state-live").wait_for()
    assert page.locator("#risk").is_visible()
    _shot(page, "links-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _shot(page, "links-390")
    page.goto(
        f"{live_server}/campaigns/{world.campaign.id}/links/new?prospect_id={world.prospect.id}"
    )
    _shot(page, "link-form-390")
    page.goto(f"{live_server}/campaigns/{world.campaign.id}/prospects/{world.prospect.id}")
    page.locator("#won-links .state-live").wait_for()
    _shot(page, "prospect-390")
