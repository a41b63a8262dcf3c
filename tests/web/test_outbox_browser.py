"""Enrolling a selection of the gap table in a real Chromium: what is unticked stays out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crm.models import Enrollment
from tests.conftest import PASSWORD
from tests.outreach.factories import MailboxFactory
from tests.web.test_outbox import ready_prospect

pytestmark = pytest.mark.browser


def test_a_gap_selection_is_enrolled_without_the_row_unticked_on_the_enroll_page(
    db: Any, team: dict[str, Any], live_server: str, page: Any
) -> None:
    MailboxFactory(name="outreach")
    for i in range(3):
        ready_prospect(db, team, f"ready{i}.example")
    db.session.commit()
    campaign_id = team["campaign"].id
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["specialist"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/campaigns/{campaign_id}/gap")
    page.check("#select-all")
    page.select_option("#bulk-action", "enroll")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("#enroll-form")
    assert page.locator("#enroll-count").inner_text() == "3"
    page.uncheck("input[aria-label='enroll ready1.example']")
    assert page.locator("#enroll-count").inner_text() == "2"
    page.click("#enroll-button")
    page.wait_for_url(re.compile(r"/outbox"))
    assert "2 enrolled" in page.locator(".flash-ok").inner_text()
    db.session.expire_all()
    enrolled = sorted(e.prospect.domain for e in db.session.query(Enrollment))
    assert enrolled == ["ready0.example", "ready2.example"]
