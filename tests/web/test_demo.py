"""The demo's pages: the notice on every page and every message the sandbox received."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crm.demo.answers import Act, SentTouch, answer
from crm.demo.sandbox import ANSWERS_FOLDER, SENT_FOLDER, SandboxPorts, store_message

pytestmark = pytest.mark.postgres
SENT = (
    b"From: Sam <outreach@sample-site.example>\r\nTo: alex@roadmapguide.net\r\n"
    b"Subject: Your kanban guide\r\nDate: Fri, 06 Nov 2026 09:59:00 +0000\r\n"
    b"Message-ID: <t1@sample-site.example>\r\n\r\nHi Alex,\r\nour guide fits.\r\n"
)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "DEMO_SANDBOX": str(tmp_path / "sandbox")}


@pytest.fixture
def sandbox(app: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "sandbox"
    SandboxPorts(2526, 1144, 8081).save(folder)
    store_message(folder / SENT_FOLDER, SENT, now=1.0)
    touch = SentTouch(
        message_id="<t1@sample-site.example>",
        subject="Your kanban guide",
        body="Hi Alex",
        to_address="alex@roadmapguide.net",
        from_address="outreach@sample-site.example",
        first_name="Alex",
        domain="roadmapguide.net",
        sent_at=datetime(2026, 11, 6, 9, 59, tzinfo=UTC),
    )
    raw = answer(Act.BOUNCE, touch, datetime(2026, 11, 6, 10, 0, tzinfo=UTC))
    assert raw is not None
    store_message(folder / ANSWERS_FOLDER, raw, now=2.0)
    return folder


def test_every_page_says_it_is_a_demo_and_where_the_mail_goes(
    client: Any, team: dict[str, Any], sandbox: Path
) -> None:
    client.login(team["specialist"].email)
    page = client.get("/campaigns").get_data(as_text=True)
    assert 'id="demo-notice"' in page
    assert "SMTP 127.0.0.1:2526, IMAP 127.0.0.1:1144" in page and 'href="/demo/mail"' in page


def test_demo_mail_lists_every_message_newest_first_and_opens_each(
    client: Any, team: dict[str, Any], sandbox: Path
) -> None:
    client.login(team["specialist"].email)
    page = client.get("/demo/mail").get_data(as_text=True)
    assert page.index("Undelivered Mail Returned to Sender") < page.index("Your kanban guide")
    assert "sent by Linkgap (SMTP)" in page and "answered by prospects (IMAP)" in page
    name = next((sandbox / ANSWERS_FOLDER).glob("*.eml")).name
    shown = client.get(f"/demo/mail/answers/{name}").get_data(as_text=True)
    assert "Status: 5.1.1" in shown and "Final-Recipient: rfc822; alex@roadmapguide.net" in shown


def test_names_outside_the_sandbox_are_not_found(
    client: Any, team: dict[str, Any], sandbox: Path
) -> None:
    client.login(team["specialist"].email)
    assert client.get("/demo/mail/sent/..%2F..%2Fsecret_key").status_code == 404
    assert client.get("/demo/mail/pages/00000000000000000001-000.eml").status_code == 404
    assert client.get("/demo/mail/sent/00000000000000000009-000.eml").status_code == 404


def test_an_empty_sandbox_says_what_happens_next(
    client: Any, team: dict[str, Any], app: Any
) -> None:
    client.login(team["manager"].email)
    page = client.get("/demo/mail").get_data(as_text=True)
    assert "No mail yet" in page
