"""A failure path a newcomer meets, in Chromium on the demo's sandbox: a wrong mailbox password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crm.demo import DEMO_LOGIN
from crm.demo.live import demo_mailbox

pytestmark = pytest.mark.browser


def test_the_mailbox_test_says_both_servers_accept_it_then_refuse_a_wrong_password(
    db: Any, live_demo: Path, live_server: str, page: Any
) -> None:
    mailbox = demo_mailbox()
    assert mailbox is not None
    email, password = DEMO_LOGIN
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/campaigns")

    page.goto(f"{live_server}/settings/mailboxes/{mailbox.id}")
    page.click("text=Test connection")
    answers = page.locator("#test-result .connection-answers li")
    answers.first.wait_for()
    assert answers.count() == 2
    assert all("OK" in text for text in answers.all_inner_texts()), answers.all_inner_texts()

    page.fill("input[name=password]", "not-the-password")
    page.click("main form button[type=submit]:has-text('Save')")
    page.wait_for_load_state()
    page.goto(f"{live_server}/settings/mailboxes/{mailbox.id}")
    page.click("text=Test connection")
    answers.first.wait_for()
    texts = answers.all_inner_texts()
    assert len(texts) == 2 and all("failed" in text for text in texts), texts
    assert "535 5.7.8 Authentication credentials invalid" in texts[0]
    assert "login refused" in texts[1]
    assert "Traceback" not in page.content()
