"""Reply tracking commands: `crm poll-inbox` and `crm inbox list/outcome/assign/dismiss`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from crm.commands import format_option, print_json, print_table, user_errors
from crm.core.campaigns import find_campaign
from crm.core.ids import MAX_INTEGER
from crm.core.prospects import find_prospect
from crm.extensions import db
from crm.mail.classify import KINDS
from crm.models import Mailbox, MailboxFolder
from crm.replies.inbox import (
    KIND_LABELS,
    assign_to_prospect,
    dismiss,
    find_messages,
    inbound_json,
    inbox_query,
    set_outcome,
)
from crm.replies.poll_pass import run_poll_pass


def register(group: AppGroup) -> None:
    group.add_command(poll_inbox)
    group.add_command(inbox)


@click.command("poll-inbox")
@format_option
@user_errors
def poll_inbox(fmt: str) -> None:
    """Read new mail in every mailbox once: match, classify, stop or reschedule sequences.

    Exits 1 (after printing the counts) when a folder could not be read; each
    such folder is named on stderr and is read again, from where it was, next pass.
    """
    counts = run_poll_pass()
    if fmt == "json":
        print_json(counts)
    else:
        click.echo(
            f"fetched {counts['fetched']}: {counts['replies']} replies, "
            f"{counts['auto_replies']} auto-replies, {counts['bounces']} bounces, "
            f"{counts['unmatched']} unmatched"
        )
    if counts.get("errors"):
        failing = db.session.execute(
            select(Mailbox.name, MailboxFolder.folder, MailboxFolder.last_error)
            .join(Mailbox, Mailbox.id == MailboxFolder.mailbox_id)
            .where(MailboxFolder.last_error != "")
            .order_by(Mailbox.name, MailboxFolder.folder)
        ).all()
        for name, folder, error in failing:
            click.echo(f"mailbox {name} {folder}: {error}", err=True)
        sys.exit(1)


@click.group(cls=AppGroup)
def inbox() -> None:
    """Inbound messages: list them, mark reply outcomes, assign unmatched ones."""


@inbox.command("list")
@click.option("--campaign", help="Only messages matched to prospects of this campaign")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Repeatable")
@click.option("--unmatched", is_flag=True, help="Only messages matched to no prospect (triage)")
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=MAX_INTEGER, clamp=True),
    default=0,
    help="At most this many, newest first (0: all)",
)
@format_option
@user_errors
def inbox_list(
    campaign: str | None, kinds: tuple[str, ...], unmatched: bool, limit: int, fmt: str
) -> None:
    """List inbound messages, newest first."""
    campaign_id = find_campaign(campaign).id if campaign else None
    stmt = inbox_query(None, kinds=kinds, campaign_id=campaign_id, unmatched=unmatched)
    if limit > 0:
        stmt = stmt.limit(limit)
    data = [inbound_json(m) for m in db.session.scalars(stmt)]
    if fmt == "json":
        print_json(data)
        return
    print_table(
        ["id", "received", "kind", "from", "prospect", "outcome", "subject"],
        [
            [
                d["id"],
                (d["received_at"] or "")[:16].replace("T", " "),
                KIND_LABELS[d["kind"]],
                d["from"],
                d["prospect"] or "(triage)",
                d["outcome"] or "",
                d["subject"][:60],
            ]
            for d in data
        ],
    )


@inbox.command("outcome")
@click.argument("message_id")
@click.argument("outcome", type=click.Choice(["positive", "neutral", "negative"]))
@user_errors
def inbox_outcome(message_id: str, outcome: str) -> None:
    """Mark a reply positive, neutral or negative (MESSAGE_ID: its id or its Message-ID)."""
    for message in find_messages(message_id):
        changed = set_outcome(message, outcome)
        click.echo(
            f"message {message.id} marked {outcome}"
            if changed
            else f"message {message.id} was already {outcome}"
        )
    db.session.commit()


@inbox.command("assign")
@click.argument("message_id")
@click.argument("campaign")
@click.argument("domain")
@user_errors
def inbox_assign(message_id: str, campaign: str, domain: str) -> None:
    """Attach a message to a prospect by hand and apply its effects (stop, suppress...)."""
    prospect = find_prospect(find_campaign(campaign), domain)
    for message in find_messages(message_id):
        done = assign_to_prospect(message, prospect)
        click.echo(f"message {message.id} assigned to {prospect.domain}")
        for line in done:
            click.echo(f"  {line}")
    db.session.commit()


@inbox.command("dismiss")
@click.argument("message_id")
@user_errors
def inbox_dismiss(message_id: str) -> None:
    """Take an unmatched message out of triage: nothing to do about it."""
    for message in find_messages(message_id):
        dismiss(message)
        click.echo(f"message {message.id} dismissed from triage")
    db.session.commit()
