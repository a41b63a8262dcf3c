"""Sending commands: `crm enroll`, `crm send-due`, `crm mailboxes test`."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select

from crm.commands import format_option, print_json, print_table, user_errors
from crm.core.campaigns import find_campaign
from crm.core.errors import UserError
from crm.core.prospects import find_prospect, iso
from crm.extensions import db
from crm.models import Prospect


def register(group: AppGroup) -> None:
    from crm.commands.outreach import mailboxes

    group.add_command(enroll_command)
    group.add_command(send_due)
    mailboxes.add_command(mailboxes_test)


@click.command("enroll")
@click.argument("campaign")
@click.option("--angle", required=True, help="Angle whose sequence to use, e.g. broken-link")
@click.option("--mailbox", "mailbox_name", help="Send from this mailbox (default: round-robin)")
@click.option("--tier", type=click.IntRange(1, 3), help="Gap prospects of this tier")
@click.option("--domain", "domains", multiple=True, help="This prospect (repeat for more)")
@click.option(
    "--contact", "contact_emails", multiple=True, help="This contact's address (repeat for more)"
)
@click.option(
    "--allow-active",
    is_flag=True,
    help="Also enroll domains already in an active sequence in some campaign",
)
@format_option
@user_errors
def enroll_command(
    campaign: str,
    angle: str,
    mailbox_name: str | None,
    tier: int | None,
    domains: tuple[str, ...],
    contact_emails: tuple[str, ...],
    allow_active: bool,
    fmt: str,
) -> None:
    """Enroll prospects' contacts into the sequence of an angle; plan every touch.

    Exits 1 when every requested prospect was skipped (after printing why).
    """
    from crm.outreach.contacts import find_contacts
    from crm.outreach.enrollment import enroll
    from crm.outreach.mailboxes import find_mailbox

    if tier is None and not domains and not contact_emails:
        raise UserError("choose the prospects: --tier N, --domain D and/or --contact EMAIL")
    found = find_campaign(campaign)
    contacts = find_contacts(found, contact_emails) if contact_emails else None
    stmt = select(Prospect).where(Prospect.campaign_id == found.id)
    if tier is not None:
        stmt = stmt.where(
            Prospect.tier == tier,
            Prospect.in_gap.is_(True),
            or_(Prospect.excluded_by.is_(None), Prospect.restored.is_(True)),
        )
    if domains:
        wanted = [find_prospect(found, d).id for d in domains]
        stmt = stmt.where(Prospect.id.in_(wanted))
    prospects: list[Prospect] = []
    if tier is not None or domains:
        order = (Prospect.score.desc(), Prospect.domain)
        prospects = list(db.session.scalars(stmt.order_by(*order)))
    mailbox = find_mailbox(mailbox_name) if mailbox_name else None
    result = enroll(
        prospects, angle=angle, contacts=contacts, mailbox=mailbox, allow_active=allow_active
    )
    db.session.commit()
    if fmt == "json":
        print_json(enroll_json(result))
        _fail_if_none_enrolled(result)
        return
    if result.enrolled:
        print_table(
            ["domain", "contact", "mailbox", "first touch due (UTC)"],
            [
                [e.prospect.domain, e.contact.email, e.mailbox.name, iso(e.touches[0].due_at)]
                for e in result.enrolled
            ],
        )
    if result.skipped:
        click.echo("skipped:")
        print_table(
            ["domain", "contact", "reason"],
            [[s.domain, s.email or "", s.reason] for s in result.skipped],
        )
    click.echo(f"{len(result.enrolled)} enrolled, {len(result.skipped)} skipped")
    _fail_if_none_enrolled(result)


def _fail_if_none_enrolled(result: Any) -> None:
    """Exit 1 when nothing was enrolled: a script must not take "all skipped" for success."""
    if not result.enrolled:
        why = "every requested prospect was skipped" if result.skipped else "no prospect matched"
        raise click.ClickException(f"nothing enrolled: {why}")


def enroll_json(result: Any) -> dict[str, Any]:
    """The CONTRACT shape of `crm enroll --format json`: enrolled with their touches, skipped."""
    return {
        "enrolled": [
            {
                "domain": e.prospect.domain,
                "contact": e.contact.email,
                "angle": e.angle,
                "mailbox": e.mailbox.name,
                "touches": [
                    {"step": t.step, "due_at": iso(t.due_at), "message_id": t.message_id}
                    for t in e.touches
                ],
            }
            for e in result.enrolled
        ],
        "skipped": [
            {"domain": s.domain, "contact": s.email, "reason": s.reason} for s in result.skipped
        ],
    }


@click.command("send-due")
@format_option
@user_errors
def send_due(fmt: str) -> None:
    """Run one pass of the sender, then exit."""
    from crm.outreach.sender import run_send_pass

    counts = run_send_pass()
    if fmt == "json":
        print_json(counts)
        return
    click.echo(", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()))


@click.command("test")
@click.argument("name")
@user_errors
def mailboxes_test(name: str) -> None:
    """Log in to the mailbox's SMTP and IMAP servers and report each answer."""
    from crm.outreach.mailboxes import find_mailbox
    from crm.outreach.probe import check_mailbox_connections

    answers = check_mailbox_connections(find_mailbox(name))
    for answer in answers:
        click.echo(f"{answer.service}: {'ok' if answer.ok else 'FAILED'} - {answer.message}")
    failed = [a.service for a in answers if not a.ok]
    if failed:
        raise click.ClickException(f"{' and '.join(failed)} failed for mailbox {name}")
