"""Every main page is usable at phone width (390 px) in a real Chromium."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.demo import DEMO_CAMPAIGN, DEMO_LOGIN, seed_demo_workspace
from crm.models import Campaign

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CRM_TEST_SCREENSHOTS", "")
MAIN_PAGES = ["/campaigns", "/prospects", "/sequences", "/inbox", "/outbox", "/links", "/reports"]


def _sign_in(page: Any, live_server: str) -> None:
    email, password = DEMO_LOGIN
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")


@pytest.fixture
def phone(db: Any, live_server: str, page: Any) -> Any:
    """The demo workspace, signed in as its admin in a 390 px wide Chromium page."""
    seed_demo_workspace()
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, live_server)
    return page


def _demo_campaign_id(db: Any) -> int:
    return db.session.scalar(select(Campaign.id).where(Campaign.name == DEMO_CAMPAIGN))


def test_main_pages_fit_a_phone_without_sideways_scrolling(
    db: Any, live_server: str, phone: Any
) -> None:
    page = phone
    campaign_gap = f"/campaigns/{_demo_campaign_id(db)}/gap"
    for path in [*MAIN_PAGES, campaign_gap]:
        page.goto(f"{live_server}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at 390 px"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=str(Path(SHOTS) / f"{name}-390.png"), full_page=True)


def test_the_header_folds_into_a_menu_that_opens_at_phone_width(
    db: Any, live_server: str, phone: Any
) -> None:
    page = phone
    inbox = page.locator("#mainnav a", has_text="Inbox")
    assert not inbox.is_visible()
    page.click("[data-navtoggle]")
    assert page.get_attribute("[data-navtoggle]", "aria-expanded") == "true"
    inbox.click()
    page.wait_for_url(f"{live_server}/inbox")


def test_gap_table_rows_become_cards_that_name_each_value(
    db: Any, live_server: str, phone: Any
) -> None:
    page = phone
    page.goto(f"{live_server}/campaigns/{_demo_campaign_id(db)}/gap")
    row = page.locator("table.gap-table tbody tr").first
    labels = row.locator("td").evaluate_all("cells => cells.map(c => c.dataset.label)")
    for wanted in ("Domain", "Tier", "DR", "Status"):
        assert any(label.startswith(wanted) for label in labels), labels
    assert row.locator("td").nth(1).is_visible()
