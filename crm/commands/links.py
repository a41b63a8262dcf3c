"""Won links: `crm links add/list/checks/mentions` and `crm verify-links`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from crm.commands import format_option, print_json, print_table, user_errors
from crm.core.campaigns import find_campaign
from crm.core.errors import UserError
from crm.core.ids import MAX_ID
from crm.core.prospects import find_prospect, iso
from crm.extensions import db
from crm.models import AnchorType, LinkCheck, LinkRel, LinkState, User, WonLink


def register(group: AppGroup) -> None:
    group.add_command(links)
    group.add_command(verify_links)


@click.group(cls=AppGroup)
def links() -> None:
    """Won links: log them, list them, see their checks."""


def _user(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise UserError(f"no user {email}")
    return user


@links.command("add")
@click.argument("campaign")
@click.argument("domain")
@click.option("--source-url", required=True, help="The page on the prospect's domain")
@click.option("--target-url", required=True, help="Where it links: a page of our site")
@click.option("--anchor", default="", help="The link's text (empty for an image link)")
@click.option(
    "--anchor-type",
    type=click.Choice([a.value for a in AnchorType]),
    help="Default: suggested from the anchor, the brand, the domain and the target's keywords",
)
@click.option("--rel", type=click.Choice([r.value for r in LinkRel]), default="dofollow",
              show_default=True)  # fmt: skip
@click.option("--placed-on", help="YYYY-MM-DD (default: today)")
@click.option("--note", default="")
@click.option("--by", "by_email", help="Who logged it (a user's email)")
@click.option("--no-check", is_flag=True, help="Do not check the page now")
@format_option
@user_errors
def links_add(
    campaign: str,
    domain: str,
    source_url: str,
    target_url: str,
    anchor: str,
    anchor_type: str | None,
    rel: str,
    placed_on: str | None,
    note: str,
    by_email: str | None,
    no_check: bool,
    fmt: str,
) -> None:
    """Log a won link; the prospect becomes won and its sequences stop; the page is checked."""
    from crm.links.checker import check_link_now
    from crm.links.queries import link_json
    from crm.links.service import LinkInput, log_won_link

    prospect = find_prospect(find_campaign(campaign), domain)
    data = LinkInput(
        source_url=source_url, target_url=target_url, anchor=anchor,
        anchor_type=anchor_type or "", rel=rel, placed_on=placed_on, note=note,
    )  # fmt: skip
    link = log_won_link(prospect, data, actor=_user(by_email))
    db.session.commit()
    if not no_check:
        check_link_now(link)
        db.session.commit()
    if fmt == "json":
        print_json(link_json(link))
        return
    click.echo(
        f"link {link.id} logged: {link.source_url} → {link.target_url} "
        f"({link.anchor_type.label}, {link.rel.value}); {prospect.domain} is won"
    )
    if not no_check:
        click.echo(f"checked: {link.state.value} — {link.last_check_summary}")


@links.command("list")
@click.argument("campaign")
@click.option("--state", type=click.Choice([s.value for s in LinkState]))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True, help="json and csv print only data on stdout.",
)  # fmt: skip
@user_errors
def links_list(campaign: str, state: str | None, fmt: str) -> None:
    """List a campaign's won links with their state and last check."""
    from crm.core.csv_cells import write_csv_rows
    from crm.links.queries import LinkFilters, csv_rows, link_json, links_query

    found = find_campaign(campaign)
    rows = list(
        db.session.scalars(
            links_query(LinkFilters(campaign_ids=(found.id,), state=state or ""))
        ).unique()
    )
    if fmt == "json":
        print_json([link_json(link) for link in rows])
        return
    if fmt == "csv":
        write_csv_rows(sys.stdout, csv_rows(rows))
        return
    print_table(
        ["id", "prospect", "state", "anchor type", "rel", "placed", "source URL", "last check"],
        [
            [link.id, link.prospect.domain, link.state.value, link.anchor_type.label,
             link.rel.value, link.placed_on.isoformat(), link.source_url,
             link.last_check_summary or "-"]
            for link in rows
        ],
    )  # fmt: skip


@links.command("checks")
@click.argument("link_id", type=click.IntRange(min=1, max=MAX_ID))
@format_option
@user_errors
def links_checks(link_id: int, fmt: str) -> None:
    """Show a link's check history, newest first."""
    link = db.session.get(WonLink, link_id)
    if link is None:
        raise UserError(f"no won link {link_id}")
    checks = db.session.scalars(
        select(LinkCheck)
        .where(LinkCheck.won_link_id == link.id)
        .order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc())
    ).all()
    if fmt == "json":
        print_json(
            [
                {"checked_at": iso(c.checked_at), "result": c.result.value, "reason": c.reason,
                 "http_status": c.http_status, "final_url": c.final_url, "hops": c.hops,
                 "via_proxy": c.via_proxy, "actual_anchor": c.actual_anchor,
                 "actual_rel": c.actual_rel, "robots": c.robots, "state_after": c.state_after.value}
                for c in checks
            ]
        )  # fmt: skip
        return
    print_table(
        ["checked at (UTC)", "result", "HTTP", "state after", "reason"],
        [[iso(c.checked_at), c.result.value, c.http_status or "-", c.state_after.value, c.reason]
         for c in checks],
    )  # fmt: skip


@links.command("mentions")
@click.argument("campaign")
@click.option("--domain", "domains", multiple=True, required=True, help="Prospect (repeat)")
@format_option
@user_errors
def links_mentions(campaign: str, domains: tuple[str, ...], fmt: str) -> None:
    """Look for unlinked mentions of the brand or site on chosen prospects' known pages."""
    from crm.links.checker import make_fetcher
    from crm.links.mentions import find_unlinked_mentions

    found = find_campaign(campaign)
    prospects = [find_prospect(found, d) for d in domains]
    fetcher = make_fetcher()
    results = []
    for prospect in prospects:
        results.extend(find_unlinked_mentions(prospect, fetcher))
        db.session.commit()
    if fmt == "json":
        print_json(
            [{"prospect": m.prospect.domain, "url": m.url, "unlinked": m.unlinked,
              "sentence": m.sentence or None, "detail": m.detail} for m in results]
        )  # fmt: skip
        return
    print_table(
        ["prospect", "page", "unlinked mention", "detail"],
        [[m.prospect.domain, m.url, "yes" if m.unlinked else "no", m.sentence or m.detail]
         for m in results],
    )  # fmt: skip


@click.command("verify-links")
@click.option("--campaign", help="Only this campaign's links")
@format_option
@user_errors
def verify_links(campaign: str | None, fmt: str) -> None:
    """Check every won link once (honours HTTP_PROXY/HTTPS_PROXY/NO_PROXY), then exit."""
    from crm.links.checker import run_verify_pass

    campaign_id = find_campaign(campaign).id if campaign else None
    counts = run_verify_pass(campaign_id=campaign_id)
    if fmt == "json":
        print_json(counts)
        return
    errors = f"; {counts['errors']} could not be recorded (see the log)" if counts["errors"] else ""
    click.echo(
        f"checked {counts['checked']}: {counts['live']} live, {counts['lost']} lost, "
        f"{counts['inconclusive']} inconclusive, {counts['unchecked']} not yet decided{errors}"
    )
