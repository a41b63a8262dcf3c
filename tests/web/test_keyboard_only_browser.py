"""The gap table and the inbox with the keyboard alone, in Chromium: no mouse click after
signing in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.models import InboundMessage, Prospect, ReplyOutcome
from tests.conftest import PASSWORD
from tests.outreach.factories import enroll_and_send_first, make_world
from tests.replies.factories import deliver, reply

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def tab_to(page: Any, test: str, *, back: bool = False, limit: int = 120) -> None:
    """Press Tab (Shift+Tab when back) until the focused element passes the JS test."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(f"(el => {test})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def choose_by_arrows(page: Any, value: str, limit: int = 20) -> None:
    """Move the focused select down with the arrow key until it holds value."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the select never reached {value!r}")


def test_the_gap_table_selects_a_row_and_applies_a_bulk_action_by_keyboard(
    db: Any,
    team: dict[str, Any],
    exports: dict[str, Path],
    import_files: Any,
    live_server: str,
    page: Any,
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    angle_of = select(Prospect.domain, Prospect.angle).where(Prospect.campaign_id == campaign.id)
    before = {d: a for d, a in db.session.execute(angle_of)}
    sign_in(page, live_server, team["specialist"].email)
    page.goto(f"{live_server}/campaigns/{campaign.id}/gap?tier=1&sort=domain&dir=asc")
    first = page.locator("table.gap-table tbody td:nth-child(2) > a").first.inner_text()

    tab_to(page, "el.name === 'prospect_id'")
    checkbox = page.locator("table.gap-table tbody input[name=prospect_id]").first
    assert checkbox.evaluate("el => el === document.activeElement")
    page.keyboard.press("Space")
    assert checkbox.is_checked()

    tab_to(page, "el.id === 'bulk-action'", back=True)
    choose_by_arrows(page, "set_angle")
    tab_to(page, "el.name === 'angle'")
    choose_by_arrows(page, "guest-post")
    tab_to(page, "el.type === 'submit' && el.form && el.form.id === 'bulk'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 prospect given the angle" in page.locator(".flash-ok").inner_text()

    db.session.expire_all()
    after = {d: a for d, a in db.session.execute(angle_of)}
    assert after == {**before, first: "guest-post"} and before[first] != "guest-post"


def test_the_inbox_moves_with_j_and_k_and_sets_outcomes_with_1_2_3(
    app: Flask, db: Any, team: dict[str, Any], live_server: str, page: Any
) -> None:
    domains = ["one.example.com", "two.example.com", "three.example.com"]
    world = make_world(None, None, domains, specialist=team["specialist"])
    enroll_and_send_first(app, world, transport="memory")
    for uid, domain in enumerate(domains, 1):
        raw = reply(world.touch(domain), sender=f"editor@{domain}", message_id=f"<k@{domain}>")
        assert deliver(world.mailbox, raw, uid=uid) is not None
    sign_in(page, live_server, team["specialist"].email)
    page.goto(f"{live_server}/inbox")
    rows = [r.get_attribute("data-message") for r in page.locator("tr[data-message]").all()]
    assert len(rows) == 3

    def selected() -> str | None:
        return page.locator("tr[data-message].selected").get_attribute("data-message")

    assert selected() == rows[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert selected() == rows[2]
    page.keyboard.press("3")
    page.locator(f"#message-{rows[2]} button.outcome-negative.chosen").wait_for()
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert selected() == rows[0]
    page.keyboard.press("1")
    page.locator(f"#message-{rows[0]} button.outcome-positive.chosen").wait_for()
    assert selected() == rows[1]  # the selection moved on by itself
    page.keyboard.press("2")
    page.locator(f"#message-{rows[1]} button.outcome-neutral.chosen").wait_for()

    db.session.expire_all()
    outcomes = {str(m.id): m.outcome for m in db.session.scalars(select(InboundMessage))}
    assert outcomes == {
        rows[0]: ReplyOutcome.POSITIVE,
        rows[1]: ReplyOutcome.NEUTRAL,
        rows[2]: ReplyOutcome.NEGATIVE,
    }
