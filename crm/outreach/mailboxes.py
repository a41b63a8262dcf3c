"""Mailboxes: create and change the accounts we send from (services: flush only)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, exists, or_, select

from crm.core.errors import UserError
from crm.core.users import normalise_login_email
from crm.crypto import decrypt_secret, encrypt_secret
from crm.extensions import db
from crm.mail.smtp import Security as SmtpSecurity
from crm.mail.smtp import SmtpSettings
from crm.models import Mailbox, Security
from crm.models.campaign import campaign_members
from crm.models.outreach import campaign_mailboxes
from crm.outreach.windows import SendingWindow, format_days, parse_timezone

# A real mailbox sends 50-500 a day; the caps only keep numbers sane (and in INTEGER).
MAX_DAILY_CAP = 5000
MAX_SPACING_SECONDS = 86400


@dataclass
class MailboxSettings:
    """Everything an admin sets on a mailbox; password None keeps the stored one."""

    name: str
    from_email: str
    from_name: str
    username: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    imap_host: str
    imap_port: int
    imap_security: str
    password: str | None = dataclasses.field(default=None, repr=False)
    imap_folders: str = "INBOX"
    daily_cap: int = 50
    min_spacing_seconds: int = 120
    window: str = "09:00-17:00"
    days: str = "mon,tue,wed,thu,fri"
    timezone: str = "UTC"
    # Send without logging in (a local relay such as Postfix on 127.0.0.1:25).
    no_auth: bool = False


def _security(value: str, field: str) -> Security:
    try:
        return Security(value.strip().lower())
    except ValueError:
        raise UserError(
            f"{field} must be none, starttls or tls, not {value!r}", field=field
        ) from None


def _port(value: int, field: str) -> int:
    if not 1 <= int(value) <= 65535:
        raise UserError(f"{field} must be a port number (1-65535)", field=field)
    return int(value)


def usable_by_member(user_id: int) -> ColumnElement[bool]:
    """Match the mailboxes a specialist may send from: their campaigns' and the shared pool."""
    # A mailbox linked to no campaign is the shared pool; one linked elsewhere is another team's.
    mine = select(campaign_mailboxes.c.mailbox_id).where(
        campaign_mailboxes.c.campaign_id.in_(
            select(campaign_members.c.campaign_id).where(campaign_members.c.user_id == user_id)
        )
    )
    return or_(Mailbox.id.in_(mine), ~exists().where(campaign_mailboxes.c.mailbox_id == Mailbox.id))


def apply_mailbox_settings(mailbox: Mailbox, s: MailboxSettings) -> Mailbox:
    """Validate settings and copy them onto a mailbox; encrypt a new password."""
    name = s.name.strip()
    if not name:
        raise UserError("a mailbox needs a name", field="name")
    clash = db.session.scalar(select(Mailbox.id).where(Mailbox.name == name))
    if clash is not None and clash != mailbox.id:
        raise UserError(f"a mailbox named {name!r} already exists", field="name")
    try:
        window = SendingWindow.parse(s.window, s.days)
    except ValueError as exc:
        raise UserError(str(exc), field="window") from None
    try:
        parse_timezone(s.timezone)
    except ValueError as exc:
        raise UserError(str(exc), field="timezone") from None
    if not 1 <= s.daily_cap <= MAX_DAILY_CAP:
        raise UserError(f"the daily cap must be 1 to {MAX_DAILY_CAP:,}", field="daily_cap")
    if not 0 <= s.min_spacing_seconds <= MAX_SPACING_SECONDS:
        raise UserError(
            f"spacing must be 0 to {MAX_SPACING_SECONDS:,} seconds (a day)",
            field="min_spacing_seconds",
        )
    for host, field in ((s.smtp_host, "smtp_host"), (s.imap_host, "imap_host")):
        if not host.strip():
            raise UserError(f"{field.replace('_', ' ')} is required", field=field)
    from_name = " ".join(s.from_name.split())
    if not from_name:
        raise UserError(
            "give the sender name recipients see (templates use it as sender.name)",
            field="from_name",
        )
    if s.no_auth and (s.username.strip() or s.password):
        raise UserError("no authentication takes neither a username nor a password",
                        field="username")  # fmt: skip
    mailbox.name = name
    mailbox.from_email = normalise_login_email(s.from_email)
    mailbox.from_name = from_name[:120]
    # An empty username is how a mailbox sends without logging in (mailbox_smtp_settings).
    mailbox.username = "" if s.no_auth else s.username.strip() or mailbox.from_email
    mailbox.smtp_host = s.smtp_host.strip()
    mailbox.smtp_port = _port(s.smtp_port, "smtp_port")
    mailbox.smtp_security = _security(s.smtp_security, "smtp_security")
    mailbox.imap_host = s.imap_host.strip()
    mailbox.imap_port = _port(s.imap_port, "imap_port")
    mailbox.imap_security = _security(s.imap_security, "imap_security")
    mailbox.imap_folders = (
        ",".join(f.strip() for f in (s.imap_folders or "INBOX").split(",") if f.strip()) or "INBOX"
    )
    mailbox.daily_cap = int(s.daily_cap)
    mailbox.min_spacing_seconds = int(s.min_spacing_seconds)
    mailbox.window_start = f"{window.start:%H:%M}"
    mailbox.window_end = f"{window.end:%H:%M}"
    mailbox.days = format_days(window.days)
    mailbox.timezone = s.timezone.strip()
    if s.password:
        mailbox.password_encrypted = encrypt_secret(
            current_app.config["ENCRYPTION_KEY"], s.password
        )
    elif s.no_auth:
        mailbox.password_encrypted = b""
    elif not mailbox.password_encrypted:
        raise UserError("give the password, or choose no authentication", field="password")
    return mailbox


def create_mailbox(s: MailboxSettings) -> Mailbox:
    mailbox = apply_mailbox_settings(Mailbox(), s)
    db.session.add(mailbox)
    db.session.flush()
    return mailbox


def mailbox_password(mailbox: Mailbox) -> str:
    """Decrypt the mailbox password for a connection (never for display)."""
    return decrypt_secret(current_app.config["ENCRYPTION_KEY"], mailbox.password_encrypted)


def mailbox_smtp_settings(
    mailbox: Mailbox, *, password: str | None, timeout: float, ca_file: str | None
) -> SmtpSettings:
    """Return how to reach and log in to a mailbox's SMTP server (no login without a username).

    ``password`` is read only when the mailbox has a username: pass None to
    have it decrypted here.
    """
    username = mailbox.username.strip() or None
    if username and password is None:
        password = mailbox_password(mailbox)
    return SmtpSettings(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        security=SmtpSecurity(mailbox.smtp_security.value),
        username=username,
        password=password if username else None,
        timeout=timeout,
        ehlo_name=mailbox.domain,
        ca_file=ca_file,
    )


def mailbox_window(mailbox: Mailbox) -> SendingWindow:
    return SendingWindow.parse(f"{mailbox.window_start}-{mailbox.window_end}", mailbox.days)


def find_mailbox(name: str) -> Mailbox:
    mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == name.strip()))
    if mailbox is None:
        raise UserError(f"no mailbox named {name!r}")
    return mailbox
