"""The demo and the main pages in a real Chromium: screenshots at 1366 and 390 px, and axe-core.

axe-core is vendored (tests/fixtures/vendor, MPL-2.0): nothing is downloaded at
test time. It runs on every main page; a serious or critical violation fails.
Screenshots go to CRM_TEST_SCREENSHOTS when set (CI keeps them as artifacts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.demo import DEMO_CAMPAIGN, DEMO_TEAM, seed_demo_workspace
from crm.demo.answers import Act, SentTouch, answer
from crm.demo.sandbox import ANSWERS_FOLDER, SENT_FOLDER, SandboxPorts, store_message
from crm.models import Campaign

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent.parent / "fixtures" / "vendor" / "axe-core-4.14.1.min.js"
WIDTHS = (1366, 390)
MAIN_PAGES = ["/campaigns", "/prospects", "/sequences", "/inbox", "/outbox", "/links", "/reports",
              "/demo/mail"]  # fmt: skip


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "DEMO_SANDBOX": str(tmp_path / "sandbox")}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CRM_TEST_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo(db: Any, tmp_path: Path) -> int:
    """The demo workspace with a sandbox that received a touch and a bounce."""
    seed_demo_workspace()
    db.session.commit()
    folder = tmp_path / "sandbox"
    SandboxPorts(2526, 1144, 8081).save(folder)
    touch = SentTouch(
        message_id="<t1@sample-site.example>",
        subject="Your kanban guide",
        body="Hi Alex,\nour guide fits your resources page.",
        to_address="alex@roadmapguide.net",
        from_address="outreach@sample-site.example",
        first_name="Alex",
        domain="roadmapguide.net",
        sent_at=datetime(2026, 11, 6, 9, 59, tzinfo=UTC),
    )
    sent = (
        b"From: outreach@sample-site.example\r\nTo: alex@roadmapguide.net\r\n"
        b"Subject: Your kanban guide\r\nMessage-ID: <t1@sample-site.example>\r\n\r\nHi Alex\r\n"
    )
    store_message(folder / SENT_FOLDER, sent, now=1.0)
    for n, act in enumerate((Act.BOUNCE, Act.PLACED), start=2):
        raw = answer(act, touch, datetime(2026, 11, 6, 10, n, tzinfo=UTC), anchor="Kanban guide")
        assert raw is not None
        store_message(folder / ANSWERS_FOLDER, raw, now=float(n))
    return int(db.session.scalar(select(Campaign.id).where(Campaign.name == DEMO_CAMPAIGN)))


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    # axe is injected as a script; the app's CSP rightly allows none inline.
    context = chromium.new_context(bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def _sign_in(page: Any, live_server: str) -> None:
    email, _name, _role, password = DEMO_TEAM[0]
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")


# Serious violations allowed per page, by rule (none today); any other serious or
# critical violation fails.
KNOWN: dict[str, set[str]] = {}


def _serious(page: Any) -> dict[str, str]:
    """Return the serious and critical violations of the page: rule id -> where."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return {
        v["id"]: f"{v['impact']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    }


def test_the_demo_says_where_its_mail_goes_and_shows_every_message(
    demo: int, live_server: str, browser_page: Any, shots: Path
) -> None:
    page = browser_page
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.context.clear_cookies()
        _sign_in(page, live_server)
        notice = page.locator("#demo-notice")
        assert "SMTP 127.0.0.1:2526, IMAP 127.0.0.1:1144" in notice.inner_text()
        page.screenshot(path=str(shots / f"campaigns-{width}.png"), full_page=True)
        notice.locator("a").click()
        page.wait_for_url(f"{live_server}/demo/mail")
        rows = page.locator("main table tbody tr")
        assert rows.count() == 3
        page.screenshot(path=str(shots / f"demo-mail-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.click("text=Undelivered Mail Returned to Sender")
        assert "Status: 5.1.1" in page.locator("pre.email-body").inner_text()
        page.screenshot(path=str(shots / f"demo-message-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_main_pages_have_no_serious_or_critical_accessibility_violations(
    demo: int, live_server: str, browser_page: Any, shots: Path
) -> None:
    page = browser_page
    _sign_in(page, live_server)
    found: dict[str, dict[str, str]] = {}
    for path in [*MAIN_PAGES, f"/campaigns/{demo}", f"/campaigns/{demo}/gap"]:
        page.goto(f"{live_server}{path}")
        new = {k: v for k, v in _serious(page).items() if k not in KNOWN.get(path, set())}
        if new:
            found[path] = new
    page.goto(f"{live_server}/demo/mail")
    page.click("text=Undelivered Mail Returned to Sender")
    if problems := _serious(page):
        found["demo message"] = problems
    assert not found, found


def test_the_setup_checklist_is_accessible_and_fits_a_phone(
    team: dict[str, Any], live_server: str, browser_page: Any, shots: Path
) -> None:
    from tests.conftest import PASSWORD

    page = browser_page
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", team["specialist"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/")
        assert page.locator("#setup-checklist li").count() == 7
        page.screenshot(path=str(shots / f"home-checklist-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert _serious(page) == {}
    page.click("text=Import backlink exports")
    page.wait_for_url(f"{live_server}/campaigns/{team['campaign'].id}/gap/import")
