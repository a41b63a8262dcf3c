"""Test a mailbox's connections: log in to SMTP and to IMAP and report each server's answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app

from crm.core.errors import UserError
from crm.mail.imap import ImapError, ImapSettings, connect
from crm.mail.smtp import probe_smtp
from crm.models import Mailbox
from crm.outreach.mailboxes import mailbox_password, mailbox_smtp_settings


@dataclass(frozen=True)
class ConnectionAnswer:
    """One server's answer to ``crm mailboxes test`` / the mailbox page's test button."""

    service: str  # "SMTP" or "IMAP"
    ok: bool
    message: str


# Network failures as people say them, not as Python names them.
_PLAIN = (
    (re.compile(r"connection refused", re.I), "connection refused by {where}"),
    (re.compile(r"timed? ?out", re.I), "no answer from {where} (timed out)"),
    (re.compile(r"name or service not known|nodename nor servname|getaddrinfo|gaierror", re.I),
     "{host} is not a known host name"),
    (re.compile(r"network is unreachable|no route to host", re.I), "{where} cannot be reached"),
    (re.compile(r"connection reset", re.I), "{where} closed the connection"),
    (re.compile(r"certificate verify failed", re.I), "{where}: its TLS certificate is not trusted"),
    (re.compile(r"wrong version number|unknown protocol", re.I),
     "{where} does not speak TLS on this port: try another security setting"),
)  # fmt: skip


def plain_failure(message: str, host: str, port: int) -> str:
    """Say a connection failure in plain words ("connection refused by 127.0.0.1:8025")."""
    where = f"{host}:{port}"
    for pattern, text in _PLAIN:
        if pattern.search(message):
            return text.format(where=where, host=host)
    return message if where in message else f"{where}: {message}"


def _smtp(mailbox: Mailbox, password: str) -> ConnectionAnswer:
    settings = mailbox_smtp_settings(
        mailbox,
        password=password,
        timeout=float(current_app.config.get("SMTP_TIMEOUT") or 15),
        ca_file=current_app.config.get("SMTP_CA_FILE") or None,
    )
    result = probe_smtp(settings)
    if not result.ok:
        message = plain_failure(result.message, mailbox.smtp_host, mailbox.smtp_port)
        return ConnectionAnswer("SMTP", False, message)
    where = f"{mailbox.smtp_host}:{mailbox.smtp_port}"
    return ConnectionAnswer("SMTP", True, f"{where}: {result.message}")


def _imap(mailbox: Mailbox, password: str) -> ConnectionAnswer:
    settings = ImapSettings(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        username=mailbox.username,
        password=password,
        security=mailbox.imap_security.value,
        connect_timeout=float(current_app.config.get("IMAP_TIMEOUT") or 15),
        read_timeout=float(current_app.config.get("IMAP_TIMEOUT") or 15),
        ca_file=current_app.config.get("IMAP_CA_FILE") or None,
    )
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        client = connect(settings)
    except ImapError as exc:
        return ConnectionAnswer(
            "IMAP", False, plain_failure(str(exc), mailbox.imap_host, mailbox.imap_port)
        )
    try:
        welcome = client.welcome
        greeting = welcome.decode("utf-8", "replace") if isinstance(welcome, bytes) else welcome
        folders = [f.strip() for f in mailbox.imap_folders.split(",") if f.strip()]
        missing = [f for f in folders if not client.folder_exists(f)]
    except Exception as exc:  # a broken connection after login: report, never raise
        return ConnectionAnswer("IMAP", False, f"{where}: logged in, then {exc}")
    finally:
        try:
            client.logout()
        except Exception:
            client.shutdown()
    text = f"{where}: logged in; {' '.join(str(greeting or '').split())[:200]}"
    if missing:
        return ConnectionAnswer("IMAP", False, f"{text}; missing folder {', '.join(missing)}")
    return ConnectionAnswer("IMAP", True, text)


def check_mailbox_connections(mailbox: Mailbox) -> list[ConnectionAnswer]:
    """Log in to the mailbox's SMTP and IMAP servers; return each server's answer."""
    try:
        password = mailbox_password(mailbox)
    except UserError as exc:
        return [
            ConnectionAnswer("SMTP", False, exc.message),
            ConnectionAnswer("IMAP", False, exc.message),
        ]
    return [_smtp(mailbox, password), _imap(mailbox, password)]
