"""Mailboxes in the browser's forms: adding, the sender name, the window, testing the connection."""

from __future__ import annotations

import re
from typing import Any

from crm.models import Mailbox

MAILBOX_FORM = {
    "name": "outreach",
    "from_email": "ana@sample-site.example",
    "from_name": "Ana",
    "username": "",
    "password": "app-password-1",
    "smtp_host": "127.0.0.1",
    "smtp_port": "2525",
    "smtp_security": "none",
    "imap_host": "127.0.0.1",
    "imap_port": "1143",
    "imap_security": "none",
    "imap_folders": "INBOX, Replies",
    "daily_cap": "40",
    "min_spacing_seconds": "90",
    "window": "09:00-17:30",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "timezone": "Europe/London",
}


def test_admin_adds_a_mailbox_and_the_password_is_never_shown_back(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["admin"].email)
    response = client.post_form("/settings/mailboxes/new", MAILBOX_FORM)
    assert response.status_code == 302
    mailbox = db.session.query(Mailbox).one()
    assert mailbox.username == "ana@sample-site.example"
    assert mailbox.imap_folders == "INBOX,Replies"
    html = client.get(f"/settings/mailboxes/{mailbox.id}").get_data(as_text=True)
    assert "password set" in html
    assert "app-password-1" not in html


def test_a_mailbox_needs_a_sender_name_which_defaults_to_the_admins_name(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    team["admin"].name = "Ada Admin"
    db.session.commit()
    client.login(team["admin"].email)
    assert 'value="Ada Admin"' in client.get("/settings/mailboxes/new").get_data(as_text=True)
    response = client.post_form("/settings/mailboxes/new", {**MAILBOX_FORM, "from_name": ""})
    html = response.get_data(as_text=True)
    assert 'id="from_name-error"' in html and "Give the name recipients see." in html
    assert db.session.query(Mailbox).count() == 0


def test_a_local_relay_mailbox_sends_without_logging_in(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["admin"].email)
    form = {**MAILBOX_FORM, "no_auth": "y", "password": "", "days": ["mon", "sat"]}
    response = client.post_form("/settings/mailboxes/new", form)
    assert response.status_code == 302
    mailbox = db.session.query(Mailbox).one()
    assert mailbox.username == "" and mailbox.days == "mon,sat"
    html = client.get(f"/settings/mailboxes/{mailbox.id}").get_data(as_text=True)
    assert "checked" in _input(html, 'name="no_auth"')
    assert "checked" in _input(html, 'value="sat"')
    assert "checked" not in _input(html, 'value="sun"')


def _input(html: str, marker: str) -> str:
    """The <input> tag holding `marker`."""
    [tag] = [t for t in re.findall(r"<input[^>]*>", html) if marker in t]
    return tag


def test_mailbox_form_puts_a_bad_window_next_to_its_field(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["admin"].email)
    response = client.post_form("/settings/mailboxes/new", {**MAILBOX_FORM, "window": "9-5"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="window-error"' in html and "is not HH:MM-HH:MM" in html
    assert db.session.query(Mailbox).count() == 0


def test_test_connection_shows_each_servers_answer(
    client: Any, db: Any, team: dict[str, Any], smtp_server: Any
) -> None:
    client.login(team["admin"].email)
    client.post_form(
        "/settings/mailboxes/new",
        {
            **MAILBOX_FORM,
            "smtp_port": str(smtp_server.port),
            "imap_port": "1",
        },
    )
    mailbox = db.session.query(Mailbox).one()
    page = f"/settings/mailboxes/{mailbox.id}"
    html = client.post_form(f"{page}/test", {}, page=page).get_data(as_text=True)
    # The test server offers no AUTH: its refusal is the answer shown.
    assert f"127.0.0.1:{smtp_server.port}: the server" in html
    assert "IMAP failed" in html and "connection refused by 127.0.0.1:1" in html
    assert "Errno" not in html
