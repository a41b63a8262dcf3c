"""`crm prospects ...`: one prospect's facts, contacts and timeline (areas add more)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from crm.commands import format_option, print_json, user_errors
from crm.core.campaigns import find_campaign
from crm.core.prospects import find_prospect, prospect_json


def register(group: AppGroup) -> None:
    from crm.commands import review

    group.add_command(prospects)
    review.register(group)


@click.group(cls=AppGroup)
def prospects() -> None:
    """Prospects of a campaign."""


@prospects.command("show")
@click.argument("campaign")
@click.argument("domain")
@format_option
@user_errors
def prospects_show(campaign: str, domain: str, fmt: str) -> None:
    """Show one prospect: facts, contacts, enrollments, replies, timeline."""
    data = prospect_json(find_prospect(find_campaign(campaign), domain))
    if fmt == "json":
        print_json(data)
        return
    click.echo(f"{data['domain']}  status {data['status']}  score {data['score']}")
    if data.get("page"):
        click.echo(f"  page {data['page']}")
    click.echo(
        f"  overlap {data['overlap']}  tier {data['tier']}  authority {data['authority']}  "
        f"categories {', '.join(data['categories']) or '-'}"
    )
    for key in ("contacts", "enrollments", "inbound", "won_links"):
        if data.get(key):
            click.echo(f"  {key}: {len(data[key])}")
    for entry in data.get("timeline", []):
        click.echo(f"  {entry['at']}  {entry['kind']:<14} {entry['summary']}")
