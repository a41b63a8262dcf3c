"""`crm review` (first emails held for review) and `crm touches edit` (personalise one touch)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from crm.commands import format_option, print_json, print_table, user_errors
from crm.core.campaigns import find_campaign
from crm.core.errors import UserError
from crm.core.prospects import iso
from crm.extensions import db
from crm.models import TOUCH_QUEUED, Campaign, Enrollment, Prospect, Touch
from crm.outreach import personalise


def register(group: AppGroup) -> None:
    group.add_command(review)
    group.add_command(touches)


def _held(campaign: Campaign, domains: tuple[str, ...] = ()) -> list[Touch]:
    stmt = (
        select(Touch)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Prospect.campaign_id == campaign.id, Touch.held_for_review.is_(True))
        .where(Touch.state.in_(TOUCH_QUEUED))
        .order_by(Touch.due_at, Touch.id)
    )
    if domains:
        stmt = stmt.where(Prospect.domain.in_([d.strip().lower() for d in domains]))
    return list(db.session.scalars(stmt))


@click.group(cls=AppGroup)
def review() -> None:
    """First emails of a campaign held until someone approves them."""


@review.command("mode")
@click.argument("campaign")
@click.argument("state", type=click.Choice(["on", "off"]))
@user_errors
def review_mode(campaign: str, state: str) -> None:
    """Hold every new first email of CAMPAIGN for review (on), or not (off)."""
    found = find_campaign(campaign)
    personalise.set_needs_review(found, state == "on")
    db.session.commit()
    click.echo(f"needs review is {state} for {found.name}")


@review.command("list")
@click.argument("campaign")
@format_option
@user_errors
def review_list(campaign: str, fmt: str) -> None:
    """List the first emails waiting for review."""
    rows = [
        {"domain": t.enrollment.prospect.domain, "contact": t.enrollment.contact.email,
         "message_id": t.message_id, "due_at": iso(t.due_at),
         "personalised": t.body_override is not None}
        for t in _held(find_campaign(campaign))
    ]  # fmt: skip
    if fmt == "json":
        print_json(rows)
        return
    print_table(["domain", "contact", "due (UTC)", "personalised"],
                [[r["domain"], r["contact"], r["due_at"], "yes" if r["personalised"] else ""]
                 for r in rows])  # fmt: skip


@review.command("approve")
@click.argument("campaign")
@click.option("--domain", "domains", multiple=True, help="This prospect's email (repeatable)")
@click.option("--all", "approve_all", is_flag=True, help="Every email waiting for review")
@user_errors
def review_approve(campaign: str, domains: tuple[str, ...], approve_all: bool) -> None:
    """Release held first emails to the sender."""
    if not domains and not approve_all:
        raise UserError("choose --domain D (repeatable) or --all")
    n = personalise.approve(_held(find_campaign(campaign), domains))
    db.session.commit()
    click.echo(f"{n} first email{'' if n == 1 else 's'} approved")


@click.group(cls=AppGroup)
def touches() -> None:
    """One touch of an enrollment."""


@touches.command("edit")
@click.argument("message_id")
@click.option("--subject", default=None, help="This prospect's subject (a template)")
@click.option("--body-file", type=click.File("r"), help="This prospect's body ('-': stdin)")
@click.option("--reset", is_flag=True, help="Go back to the sequence's text")
@user_errors
def touches_edit(message_id: str, subject: str | None, body_file: object, reset: bool) -> None:
    """Personalise one upcoming touch (named by its Message-ID) for its prospect."""
    touch = db.session.scalar(select(Touch).where(Touch.message_id == message_id.strip()))
    if touch is None:
        raise UserError(f"no touch with Message-ID {message_id}")
    if reset:
        personalise.reset(touch)
        db.session.commit()
        click.echo(f"touch {touch.step} is back to the sequence's text")
        return
    current = personalise.draft(touch)
    body = body_file.read() if body_file is not None else current.body_template  # type: ignore[attr-defined]
    result = personalise.personalise(
        touch, current.subject_template if subject is None else subject, body
    )
    db.session.commit()
    if result.problem:
        click.echo(result.problem, err=True)
        sys.exit(1)
    click.echo(f"Subject: {result.subject}\n\n{result.body}")
