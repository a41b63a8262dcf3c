"""The dashboard in a real Chromium: every chart drawn under the page's CSP, numbers beside it."""

from __future__ import annotations

from typing import Any

import pytest

from crm.demo import DEMO_LOGIN, seed_demo_workspace

pytestmark = pytest.mark.browser


def _sign_in(page: Any, live_server: str, email: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")


def test_a_manager_answers_the_dashboard_questions_on_the_demo(
    db: Any, live_server: str, page: Any
) -> None:
    seed_demo_workspace()
    db.session.commit()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    _sign_in(page, live_server, *DEMO_LOGIN)
    page.click("nav >> text=Reports")
    page.wait_for_selector("canvas[data-drawn=yes]")
    assert page.locator("canvas[data-chart]").count() == 5
    assert page.locator("canvas[data-drawn=yes]").count() == 5
    # Which angle earns links, on which tier, how fast, how many this quarter.
    assert page.locator("#table-angle tbody tr").count() >= 3
    assert page.locator("#table-angle-tier tbody tr").count() >= 3
    assert "Days to placement" in page.locator(".headline").inner_text()
    assert "To reach" in page.locator("#quarter-plan").inner_text()
    page.click("text=How is this counted?")
    # The link opens it on "hashchange", which the browser fires after the click returns.
    page.wait_for_selector("#how-counted[open]", timeout=5000)
    # The browser asks for /favicon.ico on its own; nothing else may fail or break the CSP.
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    assert not [p for p in problems if not p.startswith("Failed to load resource")], problems

    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    page.wait_for_selector("canvas[data-drawn=yes]")
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main > *')].map(e => e.scrollWidth))"
    )
    assert widest <= 390


def test_the_builder_draws_its_chart_and_says_what_was_wrong(
    db: Any, live_server: str, page: Any
) -> None:
    seed_demo_workspace()
    db.session.commit()
    _sign_in(page, live_server, *DEMO_LOGIN)
    page.goto(f"{live_server}/reports/builder")
    page.select_option("select[name=by]", "tier")
    page.select_option("select[name=by2]", "step")
    page.click("form.filter-bar button[type=submit]")
    page.wait_for_selector("canvas[data-drawn=yes]")
    assert "tier 2 × touch 1" in page.locator("#table-report").inner_text().replace("\t", " × ")
    page.fill("input[name=from]", "2026-10-31")
    page.fill("input[name=to]", "2026-10-01")
    page.click("form.filter-bar button[type=submit]")
    assert "is before the start" in page.locator(".field-error").inner_text()
