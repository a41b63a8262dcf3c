"""Outreach commands: contacts, suppressions, mailboxes (sending adds enroll/send-due)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from crm.commands import format_option, print_json, print_table, read_password_stdin, user_errors
from crm.core.campaigns import find_campaign
from crm.core.errors import UserError
from crm.core.suppression import suppress
from crm.extensions import db
from crm.models import Mailbox
from crm.outreach.contact_columns import FIELDS
from crm.outreach.contacts import import_contacts_csv, read_bounded
from crm.outreach.mailboxes import MailboxSettings, create_mailbox


def register(group: AppGroup) -> None:
    group.add_command(contacts)
    group.add_command(suppress_command)
    group.add_command(mailboxes)


@click.group(cls=AppGroup)
def contacts() -> None:
    """Contacts of prospects."""


@contacts.command("import")
@click.argument("campaign")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help=f"Read FIELD ({', '.join(FIELDS)}) from the column with this header (repeatable)",
)
@format_option
@user_errors
def contacts_import(campaign: str, file: Path, maps: tuple[str, ...], fmt: str) -> None:
    """Import contacts: email[,domain,first_name,last_name,role,timezone]; common headers work."""
    mapping = parse_map_options(maps)
    if not file.exists():
        raise UserError(f"{file}: no such file")
    with file.open("rb") as stream:
        data = read_bounded(stream, file.name)
    result = import_contacts_csv(find_campaign(campaign), data, file.name, mapping)
    db.session.commit()
    if fmt == "json":
        print_json(
            {
                "added": result.added,
                "updated": result.updated,
                "new_prospects": result.new_prospects,
            }
        )
        return
    click.echo(
        f"{result.added} contacts added, {result.updated} updated"
        + (f", {len(result.new_prospects)} new prospects" if result.new_prospects else "")
    )


@click.command("suppress")
@click.argument("email_or_domain")
@click.option("--reason", default="", help="Why (shown in the suppression list)")
@user_errors
def suppress_command(email_or_domain: str, reason: str) -> None:
    """Never email this address, or anyone at this domain."""
    entry = suppress(email_or_domain, reason or "added with crm suppress")
    db.session.commit()
    click.echo(f"suppressed {entry.kind.value} {entry.value}")


@click.group(cls=AppGroup)
def mailboxes() -> None:
    """Mailboxes we send from and read replies in."""


@mailboxes.command("add")
@click.argument("name")
@click.option("--email", "from_email", required=True)
@click.option("--from-name", required=True, help="The sender name recipients see")
@click.option("--username", default="", help="SMTP/IMAP login (default: the --email address)")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@click.option("--no-auth", is_flag=True, help="Send without logging in (a local relay)")
@click.option("--smtp-host", required=True)
@click.option("--smtp-port", type=int, required=True)
@click.option("--smtp-security", type=click.Choice(["none", "starttls", "tls"]), default="starttls")
@click.option("--imap-host", required=True)
@click.option("--imap-port", type=int, required=True)
@click.option("--imap-security", type=click.Choice(["none", "starttls", "tls"]), default="tls")
@click.option("--imap-folders", default="INBOX", help="Comma separated")
@click.option("--daily-cap", type=int, default=50)
@click.option("--min-spacing-seconds", type=int, default=120)
@click.option("--window", default="09:00-17:00", help="HH:MM-HH:MM in the mailbox timezone")
@click.option("--days", default="mon,tue,wed,thu,fri")
@click.option("--timezone", "tz", default="UTC", help="IANA name, e.g. Europe/London")
@user_errors
def mailboxes_add(name: str, password_stdin: bool, no_auth: bool, tz: str, **opts: object) -> None:
    """Add a mailbox (the password is read from standard input, unless --no-auth)."""
    if no_auth and (password_stdin or opts.get("username")):
        raise UserError("--no-auth takes neither --username nor --password-stdin")
    if not no_auth and not password_stdin:
        raise UserError("give --password-stdin (with --username if it differs), or --no-auth")
    settings = MailboxSettings(
        name=name,
        password=None if no_auth else read_password_stdin(),
        timezone=tz,
        no_auth=no_auth,
        **opts,  # type: ignore[arg-type]
    )
    mailbox = create_mailbox(settings)
    db.session.commit()
    click.echo(f"added mailbox {mailbox.name} <{mailbox.from_email}>")


@mailboxes.command("list")
@format_option
def mailboxes_list(fmt: str) -> None:
    """List mailboxes (never their passwords)."""
    rows = db.session.scalars(select(Mailbox).order_by(Mailbox.name)).all()
    data = [
        {
            "name": m.name,
            "email": m.from_email,
            "smtp": f"{m.smtp_host}:{m.smtp_port} {m.smtp_security.value}",
            "imap": f"{m.imap_host}:{m.imap_port} {m.imap_security.value}",
            "daily_cap": m.daily_cap,
            "window": f"{m.window_start}-{m.window_end} {m.days} {m.timezone}",
            "paused": m.paused,
            "paused_reason": m.paused_reason or None,
        }
        for m in rows
    ]
    if fmt == "json":
        print_json(data)
        return
    print_table(
        ["name", "email", "smtp", "imap", "cap", "window", "paused"],
        [
            [
                d["name"],
                d["email"],
                d["smtp"],
                d["imap"],
                d["daily_cap"],
                d["window"],
                d["paused_reason"] or ("yes" if d["paused"] else ""),
            ]
            for d in data
        ],
    )


def parse_map_options(options: Sequence[str]) -> dict[str, str]:
    """Parse `FIELD=COLUMN` options into a mapping (UserError naming a malformed one)."""
    mapping: dict[str, str] = {}
    for option in options:
        f, sep, column = option.partition("=")
        if not sep or not f.strip():
            raise UserError(f"--map {option}: give FIELD=COLUMN, e.g. email='E-mail Address'")
        mapping[f.strip().lower()] = column.strip()
    return mapping
