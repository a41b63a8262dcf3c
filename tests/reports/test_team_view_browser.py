"""The manager's view in Chromium: the dashboard counts the whole team's outreach, while each
specialist's counts only the prospects assigned to them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm.demo import DEMO_TEAM, seed_demo_workspace
from crm.models import Enrollment, Prospect, Touch, TouchState
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def contacted_on_the_dashboard(page: Any, live_server: str, email: str, password: str) -> int:
    """Sign in, open Reports from the nav and read the headline Contacted figure."""
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.click("nav >> text=Reports")
    page.wait_for_selector(".headline")
    return int(page.locator(".headline article").first.locator("p.big").inner_text())


def test_the_managers_dashboard_adds_up_the_numbers_of_every_specialist(
    db: Any, live_server: str, page: Any
) -> None:
    seed_demo_workspace()
    manager_email, _, _, manager_password = DEMO_TEAM[0]
    sam_email, _, _, sam_password = DEMO_TEAM[1]
    # A second specialist takes every other contacted prospect of the demo over from Sam.
    contacted = db.session.scalars(
        select(Prospect)
        .join(Enrollment, Enrollment.prospect_id == Prospect.id)
        .join(Touch, Touch.enrollment_id == Enrollment.id)
        .where(Touch.state == TouchState.SENT)
        .distinct()
        .order_by(Prospect.id)
    ).all()
    assert len(contacted) >= 4
    kim = UserFactory(role="specialist", email="kim@demo.linkgap.example")
    db.session.flush()
    contacted[0].campaign.members.append(kim)
    for prospect in contacted[::2]:
        prospect.assigned_to_id = kim.id
    db.session.commit()

    team = contacted_on_the_dashboard(page, live_server, manager_email, manager_password)
    assert "The team's outreach" in page.locator("main").inner_text()
    sam = contacted_on_the_dashboard(page, live_server, sam_email, sam_password)
    assert "Your own outreach" in page.locator("main").inner_text()
    kim_count = contacted_on_the_dashboard(page, live_server, kim.email, PASSWORD)

    assert team == len(contacted)
    assert kim_count == len(contacted[::2]) and sam == len(contacted) - kim_count
    assert team == sam + kim_count
