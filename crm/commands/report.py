"""`crm report`: reply, positive-reply and placement rates by one or two breakdowns."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from crm.commands import print_json, print_table, user_errors
from crm.core.campaigns import find_campaign
from crm.core.csv_cells import write_csv_rows
from crm.core.errors import UserError
from crm.core.users import find_user_by_email
from crm.reports.dimensions import NAMES
from crm.reports.params import ReportScope, check_range, parse_breakdowns, parse_day
from crm.reports.report import build_report
from crm.reports.shaping import csv_cells, csv_header, headers, row_json, table_cells


def register(group: AppGroup) -> None:
    group.add_command(report)


@click.command("report")
@click.argument("campaign")
@click.option(
    "--by", "by", required=True, help=f"One or two breakdowns, comma separated: {', '.join(NAMES)}"
)
@click.option("--from", "date_from", help="First day of first sends counted (YYYY-MM-DD)")
@click.option("--to", "date_to", help="Last day of first sends counted (YYYY-MM-DD)")
@click.option("--specialist", help="Only this specialist's prospects (email)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="json prints machine-readable JSON on stdout and nothing else.",
)
@user_errors
def report(
    campaign: str,
    by: str,
    date_from: str | None,
    date_to: str | None,
    specialist: str | None,
    fmt: str,
) -> None:
    """Rates of a campaign by angle, tier, authority, link-type, target, specialist,
    mailbox, step or week; two breakdowns combine (--by angle,tier).

    Contacted = enrollments with a touch sent; reply rate = replied ÷ contacted;
    placement rate = contacted prospects with a won link ÷ contacted prospects.
    Each rate comes with a Wilson 95% interval.
    """
    dims = parse_breakdowns(by, "--by")
    start, end = parse_day(date_from, "--from", "from"), parse_day(date_to, "--to", "to")
    check_range(start, end, "--to")
    specialist_id = None
    if specialist:
        user = find_user_by_email(specialist)
        if user is None:
            raise UserError(f"--specialist: no user with the email {specialist!r}")
        specialist_id = user.id
    scope = ReportScope((find_campaign(campaign).id,), start, end, specialist_id)
    rows = build_report(dims, scope)
    if fmt == "json":
        print_json([row_json(r) for r in rows])
    elif fmt == "csv":
        write_csv_rows(sys.stdout, [csv_header(dims), *(csv_cells(r) for r in rows)])
    elif not rows:
        click.echo("nothing sent in this campaign and range yet: enroll prospects to start")
    else:
        print_table(headers(dims), [table_cells(r) for r in rows])
