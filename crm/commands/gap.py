"""`crm gap import/show`, `crm targets add`, `crm prospects set/add` (CONTRACT, gap area).

`crm gap import` runs the import inline (the web runs big ones in a thread):
every file is inspected and its owner checked before anything is written,
then all are reduced; one bad file means nothing is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import orjson
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from crm.commands import print_json, print_table, user_errors
from crm.core.campaigns import add_target_page, find_campaign
from crm.core.errors import UserError
from crm.core.ids import MAX_INTEGER
from crm.core.stages import stage_names
from crm.core.users import find_user_by_email
from crm.extensions import db
from crm.gap import actions
from crm.gap.bulk import batches
from crm.gap.bulk_changes import BATCH as BULK_BATCH
from crm.gap.bulk_changes import unconfirmed_prospect_ids
from crm.gap.exports import FORMAT_BY_ID
from crm.gap.gc_tuning import cyclic_collection_paused
from crm.gap.manual import add_prospects
from crm.gap.queries import GapFilter, csv_lines, iter_facts
from crm.gap.service import SourceFile, import_now, latest_snapshot, own_export_missing
from crm.models import Campaign, Prospect, TargetCategory
from crm.models.prospect import CATEGORY_BITS


def register(group: AppGroup) -> None:
    from crm.commands.prospects import prospects

    group.add_command(gap)
    group.add_command(targets)
    prospects.add_command(prospects_set)
    prospects.add_command(prospects_add)


def parse_source(source: str) -> SourceFile:
    """Read a SOURCE argument: PATH, or DOMAIN=PATH to say whose export it is."""
    owner, sep, rest = source.partition("=")
    if sep and owner and "/" not in owner and "\\" not in owner and not Path(source).exists():
        path = Path(rest)
        return SourceFile(str(path), path.name, owner=owner.strip())
    path = Path(source)
    return SourceFile(str(path), path.name)


def _own_export_note(campaign: Campaign) -> None:
    if own_export_missing(latest_snapshot(campaign), campaign):
        click.echo(
            f"note: no export of {campaign.site.domain} is imported, so 'not linking to us' "
            "only means no export says so",
            err=True,
        )


@click.group(cls=AppGroup)
def gap() -> None:
    """The backlink gap: import exports, show the gap."""


@gap.command("import")
@click.argument("campaign")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE [SOURCE ...]")
@click.option(
    "--format-hint",
    type=click.Choice(sorted(FORMAT_BY_ID)),
    help="Read every file as this format (when a header fits several).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="json prints the import's summary as JSON.")  # fmt: skip
@user_errors
def gap_import(campaign: str, sources: tuple[str, ...], format_hint: str | None, fmt: str) -> None:
    """Import exports: SOURCE is PATH or DOMAIN=PATH (runs inline)."""
    # This process only writes the snapshot: mapped pages of the SQLite file would count
    # as its memory (up to 256 MiB more) and speed none of its writes.
    current_app.config["SQLITE_MMAP_BYTES"] = 0
    target = find_campaign(campaign)
    files = []
    for source in sources:
        parsed = parse_source(source)
        if not Path(parsed.path).is_file():
            raise UserError(f"{parsed.path}: no such file")
        files.append(SourceFile(parsed.path, parsed.name, parsed.owner, format_hint))
    with cyclic_collection_paused():
        done = import_now(target, files, commit_batches=True)
        db.session.commit()
    summary: dict[str, Any] = {
        "import_id": done.id,
        "files": [
            {"name": f["name"], "format": (f.get("detected") or {}).get("format"),
             "owners": (f.get("detected") or {}).get("owners"), "records": f.get("records"),
             "skipped": f.get("skipped", 0)}
            for f in done.files
        ],
        "domains": done.domain_count,
        "gap": done.gap_count,
        "sites_covered": done.sites_covered,
        "sites_carried": done.sites_carried,
        "diff": {k: done.diff.get(k) for k in ("new_gap", "closed", "lost")},
    }  # fmt: skip
    for f in done.files:
        if f.get("skipped"):
            lines = ", ".join(str(n) for n in f.get("skipped_lines", []))
            click.echo(f"warning: {f['name']}: {f['skipped']} broken rows skipped (lines {lines})",
                       err=True)  # fmt: skip
    _own_export_note(target)
    if fmt == "json":
        print_json(summary)
        return
    for item in summary["files"]:
        owners = ", ".join(item["owners"] or [])
        click.echo(f"{item['name']}: {item['format']} for {owners}, {item['records']} rows")
    click.echo(
        f"import #{done.id}: {done.domain_count} referring domains, {done.gap_count} in the gap"
    )
    diff = done.diff
    if diff.get("previous_import_id"):
        click.echo(
            f"since the previous import: {diff['new_gap']} new gap domains, "
            f"{diff['closed']} gaps closed, {diff['lost']} competitor links lost"
        )


@gap.command("show")
@click.argument("campaign")
@click.option("--all", "show_all", is_flag=True, help="Every referring domain, not only the gap.")
@click.option("--tier", type=click.IntRange(1, 3))
@click.option("--min-dr", type=click.FloatRange(min=0), help="Minimum DR/authority.")
@click.option("--min-traffic", type=click.IntRange(min=0, max=MAX_INTEGER, clamp=True))
@click.option("--dofollow-only", is_flag=True)
@click.option("--category", "categories", multiple=True, type=click.Choice(list(CATEGORY_BITS)))
@click.option("--visible-only", is_flag=True, help="Leave out prospects a rule or a person hid.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)  # fmt: skip
@user_errors
def gap_show(campaign: str, show_all: bool, tier: int | None, min_dr: float | None,
             min_traffic: int | None, dofollow_only: bool, categories: tuple[str, ...],
             visible_only: bool, fmt: str) -> None:  # fmt: skip
    """Show the gap, best first; hidden prospects say why (excluded_by)."""
    target = find_campaign(campaign)
    view = GapFilter(view="all" if show_all else "gap", categories=categories, tier=tier,
                     min_authority=min_dr, min_traffic=min_traffic, dofollow=dofollow_only,
                     hidden="no" if visible_only else "all")  # fmt: skip
    rows = iter_facts(target.id, view)
    if fmt == "json":
        _stream_json(rows)
    elif fmt == "csv":
        for chunk in csv_lines(rows):
            sys.stdout.write(chunk)
    else:
        print_table(
            ["domain", "tier", "overlap", "dr", "traffic", "follow", "categories", "score",
             "status", "hidden"],
            [[r["domain"], r["tier"] or "-", r["overlap"], _num(r["authority"]),
              _num(r["traffic"]), {True: "yes", False: "no", None: "-"}[r["dofollow"]],
              ",".join(r["categories"]) or "-", f"{r['score']:.2f}", r["status"],
              r["excluded_by"] or ""] for r in rows],
        )  # fmt: skip
    _own_export_note(target)


def _stream_json(rows: Iterable[dict[str, Any]]) -> None:
    """Print rows as print_json prints their list, one row at a time (bounded memory).

    With orjson: the standard library's encoder runs in Python when it indents,
    20 s of the 35 s that 766,000 prospects took. The two spell the same
    values alike but for floats below 1e-4 (0.00005, not 5e-05).
    """
    out = sys.stdout
    out.write("[")
    first = True
    for row in rows:
        out.write("\n  " if first else ",\n  ")
        # Indented a level deeper, as the list's items; JSON text holds no raw newline.
        text = orjson.dumps(row, default=str, option=orjson.OPT_INDENT_2).decode()
        out.write(text.replace("\n", "\n  "))
        first = False
    out.write("]\n" if first else "\n]\n")


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


@click.group(cls=AppGroup)
def targets() -> None:
    """Target pages: the pages of our site prospects are pitched to."""


@targets.command("add")
@click.argument("campaign")
@click.argument("url")
@click.option("--title", default="")
@click.option("--category", type=click.Choice([c.value for c in TargetCategory]), default="other",
              show_default=True)  # fmt: skip
@click.option("--keywords", default="", help="Topic keywords, comma separated.")
@user_errors
def targets_add(campaign: str, url: str, title: str, category: str, keywords: str) -> None:
    """Add a target page; prospects without a confirmed target are mapped again."""
    from crm.gap.assess import reassess

    target = find_campaign(campaign)
    page = add_target_page(target, url, title=title, category=category,
                           keywords=keywords.split(","))  # fmt: skip
    unconfirmed = unconfirmed_prospect_ids(target)
    for chunk in batches(unconfirmed, BULK_BATCH):  # short transactions, as `prospects set`
        reassess(target, chunk)
        db.session.commit()
    click.echo(f"target page {page.url} added ({page.category.value}); "
               f"{len(unconfirmed)} prospects mapped again")  # fmt: skip


def _select(
    campaign: Campaign, domains: tuple[str, ...], tier: int | None, all_gap: bool
) -> list[int]:
    from crm.core.prospects import find_prospect

    if sum((bool(domains), tier is not None, all_gap)) != 1:
        raise UserError("choose the prospects with --domain, --tier or --all-gap (one of them)")
    if domains:
        return [find_prospect(campaign, d).id for d in domains]
    stmt = select(Prospect.id).where(
        Prospect.campaign_id == campaign.id,
        Prospect.in_gap.is_(True),
        Prospect.excluded_by.is_(None),
    )
    if tier is not None:
        stmt = stmt.where(Prospect.tier == tier)
    return list(db.session.scalars(stmt))


@click.command("set")
@click.argument("campaign")
@click.option("--domain", "domains", multiple=True, help="A prospect's domain (repeatable).")
@click.option("--tier", type=click.IntRange(1, 3), help="Every visible prospect of this tier.")
@click.option("--all-gap", is_flag=True, help="Every visible prospect of the gap.")
@click.option("--status", type=click.Choice(stage_names()), help="A deal stage.")
@click.option("--reason", default="", help="Why (needed for excluded, lost, not-a-fit).")
@click.option("--target-url", help="One of the campaign's target pages.")
@click.option("--angle", help="An outreach angle (slug or label).")
@click.option("--assign", "assign_to", help="A member's email.")
@user_errors
def prospects_set(campaign: str, domains: tuple[str, ...], tier: int | None, all_gap: bool,
                  status: str | None, reason: str, target_url: str | None, angle: str | None,
                  assign_to: str | None) -> None:  # fmt: skip
    """Set status, target page, angle or assignee of prospects, in bulk."""
    target = find_campaign(campaign)
    if not any((status, target_url, angle, assign_to)):
        raise UserError("nothing to set: give --status, --target-url, --angle or --assign")
    ids = _select(target, domains, tier, all_gap)
    if not ids:
        raise UserError("no prospects match")
    page = actions.find_target(target, target_url) if target_url else None
    user = find_user_by_email(assign_to) if assign_to else None
    if assign_to and user is None:
        raise UserError(f"no user {assign_to}")
    # A batch per transaction, as the gap table's big changes: one transaction for
    # every prospect of a big gap would keep the web's writes waiting on it. A bad
    # choice fails in the first batch, before anything is committed.
    done: dict[str, actions.BulkResult] = {}
    for chunk in batches(ids, BULK_BATCH):
        if status:
            part = actions.set_status(target, chunk, status, reason=reason)
            done.setdefault(f"set to {status}", actions.BulkResult()).add(part)
        if page is not None:
            part = actions.map_target(target, chunk, page)
            done.setdefault(f"mapped to {page.url}", actions.BulkResult()).add(part)
        if angle:
            part = actions.set_angle(target, chunk, angle)
            done.setdefault(f"given the angle {angle}", actions.BulkResult()).add(part)
        if user is not None:
            part = actions.assign(target, chunk, user)
            done.setdefault(f"assigned to {user.email}", actions.BulkResult()).add(part)
        db.session.commit()
    for verb, result in done.items():
        click.echo(result.summary(verb))


@click.command("add")
@click.argument("campaign")
@click.argument("values", nargs=-1, required=True, metavar="DOMAIN_OR_URL [...]")
@click.option("--source", default="manual", show_default=True,
              help="Where they came from (e.g. 'resource pages list').")  # fmt: skip
@user_errors
def prospects_add(campaign: str, values: tuple[str, ...], source: str) -> None:
    """Add prospects by hand or from a list (adjacent opportunities)."""
    target = find_campaign(campaign)
    result = add_prospects(target, values, source=source)
    db.session.commit()
    for value, why in result.invalid:
        click.echo(f"skipped {value}: {why}", err=True)
    if not result.added and not result.existing:
        raise UserError("nothing added")
    there = f"; already there: {', '.join(result.existing)}" if result.existing else ""
    paged = f"; given their page: {', '.join(result.paged)}" if result.paged else ""
    click.echo(f"{len(result.added)} prospects added{there}{paged}")
