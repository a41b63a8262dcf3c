"""`crm mailboxes test NAME`: logs in to SMTP (aiosmtpd) and IMAP (Dovecot), reports each."""

from __future__ import annotations

from typing import Any

from flask import Flask

from crm.crypto import encrypt_secret
from crm.extensions import db
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.fixtures.smtp import free_port
from tests.outreach.factories import make_mailbox


def _mailbox(smtp: Any, imap_port: int, username: str, password: str) -> None:
    make_mailbox(
        smtp,
        name="outreach",
        username=username,
        password_encrypted=encrypt_secret(TEST_ENCRYPTION_KEY, password),
        imap_port=imap_port,
    )
    db.session.commit()


def test_both_logins_work_and_each_servers_answer_is_shown(
    app: Flask, db: Any, smtp_server_factory: Any, dovecot: Any
) -> None:
    smtp = smtp_server_factory(auth=(dovecot.username, dovecot.password))
    _mailbox(smtp, dovecot.server.port, dovecot.username, dovecot.password)

    result = app.test_cli_runner().invoke(args=["mailboxes", "test", "outreach"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"SMTP: ok - 127.0.0.1:{smtp.port}: ")
    assert "logged in" in lines[0]
    assert lines[1].startswith(f"IMAP: ok - 127.0.0.1:{dovecot.server.port}: logged in")
    assert smtp.auth_attempts == [(dovecot.username, True)]


def test_a_refused_smtp_login_fails_the_command_with_the_servers_answer(
    app: Flask, db: Any, smtp_server_factory: Any
) -> None:
    smtp = smtp_server_factory(auth=("someone", "right"))
    _mailbox(smtp, free_port(), "someone", "wrong")

    result = app.test_cli_runner().invoke(args=["mailboxes", "test", "outreach"])

    assert result.exit_code == 1
    assert "SMTP: FAILED" in result.stdout and "535" in result.stdout
    assert "IMAP: FAILED" in result.stdout
    assert "connection refused by 127.0.0.1:" in result.stdout and "Errno" not in result.stdout
    assert "SMTP and IMAP failed for mailbox outreach" in result.stderr


def test_an_unknown_mailbox_is_a_one_line_error(app: Flask, db: Any) -> None:
    result = app.test_cli_runner().invoke(args=["mailboxes", "test", "nope"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no mailbox named 'nope'"
