"""A specialist in Chromium: a prospect added from a URL, enrolled with resource replacement,
its first email edited before the sequence starts, and the edited text sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import Prospect, Touch, utcnow
from tests.conftest import PASSWORD
from tests.factories import ContactFactory
from tests.outreach.factories import SMTP_LOGIN, make_mailbox, send_pass

pytestmark = pytest.mark.browser


def test_a_url_prospect_is_enrolled_and_its_edited_first_email_is_what_is_sent(
    app: Flask, team: dict[str, Any], live_server: str, page: Any, smtp_server_factory: Any
) -> None:
    server = smtp_server_factory(auth=SMTP_LOGIN)
    make_mailbox(server)
    campaign = team["campaign"]
    db.session.commit()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["specialist"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    page.goto(f"{live_server}/campaigns/{campaign.id}/gap/add")
    page.fill("textarea[name=domains]", "https://toolsite.example/resources/")
    page.click("main button[type=submit]")
    db.session.expire_all()
    prospect = db.session.query(Prospect).filter_by(domain="toolsite.example").one()
    prospect.target_page_id = team["target"].id  # mapped on the gap table by then
    ContactFactory(prospect=prospect, email="ed@toolsite.example", first_name="Ed")
    db.session.commit()

    page.goto(f"{live_server}/campaigns/{campaign.id}/prospects/{prospect.id}")
    assert page.locator("#page a").get_attribute("href") == "https://toolsite.example/resources/"
    page.select_option("#sequences select[name=angle]", "resource-replacement")
    page.click("#sequences form button[type=submit]")
    page.locator("#sequences a", has_text="Open and edit").first.click()
    assert "https://toolsite.example/resources/" in page.inner_text("#rendered")
    page.fill("#subject", "Your resources page, {{ contact.first_name }}")
    page.fill("#body", "Hi Ed,\n\nWritten for you alone.\n\nAna")
    page.click("#touch-form button[value=save]")
    page.locator("text=personalised for this prospect").wait_for()

    db.session.expire_all()
    touch = db.session.query(Touch).filter_by(step=1).one()
    assert send_pass(app, touch.due_at + timedelta(minutes=1))["sent"] == 1
    [sent] = server.messages
    assert sent.message["Subject"] == "Your resources page, Ed"
    assert "Written for you alone." in sent.message.get_body(("plain",)).get_content()
    assert touch.due_at <= utcnow() + timedelta(days=30)


def test_the_prospect_enroll_review_touch_and_sequence_pages_fit_a_phone(
    db: Any, live_server: str, page: Any
) -> None:
    from sqlalchemy import select

    from crm.demo import DEMO_CAMPAIGN, DEMO_LOGIN, seed_demo_workspace
    from crm.models import Campaign, Enrollment

    seed_demo_workspace()
    db.session.commit()
    campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.name == DEMO_CAMPAIGN))
    enrollment = db.session.scalars(select(Enrollment).order_by(Enrollment.id)).first()
    assert enrollment is not None
    touch = enrollment.touches[-1]
    page.set_viewport_size({"width": 390, "height": 844})
    email, password = DEMO_LOGIN
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    for path in [
        f"/campaigns/{campaign_id}/prospects/{enrollment.prospect_id}",
        f"/campaigns/{campaign_id}/enroll",
        f"/campaigns/{campaign_id}/review",
        f"/touches/{touch.id}/edit",
        "/sequences/resource-replacement",
    ]:
        page.goto(f"{live_server}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at 390 px"
