"""A new user's first minutes, in a real Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from crm.demo import DEMO_CAMPAIGN, DEMO_LOGIN, seed_demo_workspace

pytestmark = pytest.mark.browser


def test_demo_login_lands_on_the_demo_campaign(db: Any, live_server: str, page: Any) -> None:
    seed_demo_workspace()
    db.session.commit()
    email, password = DEMO_LOGIN
    page.goto(f"{live_server}/campaigns")
    assert "/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")
    page.click(f"text={DEMO_CAMPAIGN}")
    assert page.locator("h1").inner_text() == DEMO_CAMPAIGN
    assert page.locator("#targets table tbody tr").count() >= 4


def test_manager_creates_a_campaign_and_sees_field_errors_first(
    db: Any, team: dict[str, Any], live_server: str, page: Any
) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["manager"].email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/campaigns/new")
    page.fill("input[name=name]", "Browser campaign")
    page.fill("input[name=site]", "acme.com")
    page.fill("textarea[name=competitors]", "www.acme.com")
    page.click("main button[type=submit]")
    assert "the campaign's own site" in page.locator(".field-error").inner_text()
    page.fill("textarea[name=competitors]", "rival-a.com\nrival-b.com")
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Browser campaign"
    assert "rival-a.com, rival-b.com" in page.content()


def test_filters_that_submit_on_change_work_under_the_content_security_policy(
    db: Any, live_server: str, page: Any
) -> None:
    seed_demo_workspace()
    db.session.commit()
    email, password = DEMO_LOGIN
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")
    page.click(f"text={DEMO_CAMPAIGN}")
    page.goto(page.url.rstrip("/") + "/enroll")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with page.expect_navigation():
        page.select_option("select[name=tier]", "1")
    assert "tier=1" in page.url
    page.goto(f"{live_server}/outbox")
    with page.expect_navigation():
        page.select_option("select[name=mailbox]", index=1)
    assert "mailbox=" in page.url and not page.url.endswith("mailbox=")
    assert not errors, errors
