"""Create campaigns with their site, competitors, members and target pages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.ids import parse_id
from crm.extensions import db
from crm.models import Campaign, Competitor, Prospect, Site, TargetCategory, TargetPage, User


def normalise_site_domain(raw: str, *, what: str = "domain") -> str:
    """Return the registrable domain of a domain or URL, or raise UserError."""
    from crm.core.domains import DomainError, registrable_domain

    try:
        return registrable_domain(raw)
    except DomainError as exc:
        raise UserError(f"invalid {what} {raw.strip()!r}: {exc}", field=what) from exc


def get_or_create_site(domain: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.domain == domain))
    if site is None:
        site = Site(domain=domain)
        db.session.add(site)
        db.session.flush()
    return site


def find_campaign(name_or_id: str) -> Campaign:
    """Look a campaign up by exact name, else by numeric id."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == name_or_id.strip()))
    if campaign is None and (campaign_id := parse_id(name_or_id)) is not None:
        campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise UserError(f"no campaign named {name_or_id!r}")
    return campaign


def create_campaign(
    name: str,
    site: str,
    competitors: Iterable[str],
    *,
    members: Iterable[User] = (),
    actor: User | None = None,
) -> Campaign:
    """Add a campaign for a site and its search competitors."""
    name = name.strip()
    if not name:
        raise UserError("a campaign needs a name", field="name")
    if db.session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise UserError(f"a campaign named {name!r} already exists", field="name")
    site_domain = normalise_site_domain(site, what="site")
    rivals = _normalise_competitors(competitors, site_domain)
    campaign = Campaign(name=name, site=get_or_create_site(site_domain), created_by_id=None)
    if actor is not None:
        campaign.created_by_id = actor.id
    campaign.competitors = [Competitor(domain=d) for d in rivals]
    # Whoever creates a campaign works in it: without this a manager's own campaign
    # would be missing from their member-scoped lists and triage.
    people = list(members)
    if actor is not None and actor not in people:
        people.append(actor)
    campaign.members = people
    db.session.add(campaign)
    db.session.flush()
    record_audit(
        "campaign.create",
        user=actor,
        object_type="campaign",
        object_id=campaign.id,
        site=site_domain,
        competitors=rivals,
    )
    return campaign


def set_competitors(campaign: Campaign, competitors: Iterable[str]) -> None:
    """Replace the campaign's competitors, keeping the rows of those that stay."""
    wanted = _normalise_competitors(competitors, campaign.site.domain)
    keep = [c for c in campaign.competitors if c.domain in wanted]
    have = {c.domain for c in keep}
    campaign.competitors = keep + [Competitor(domain=d) for d in wanted if d not in have]


def _normalise_competitors(raw: Iterable[str], site_domain: str) -> list[str]:
    seen: list[str] = []
    for value in raw:
        if not value.strip():
            continue
        domain = normalise_site_domain(value, what="competitor")
        if domain == site_domain:
            raise UserError(f"competitor {domain} is the campaign's own site", field="competitors")
        if domain not in seen:
            seen.append(domain)
    if not seen:
        raise UserError("a campaign needs at least one competitor", field="competitors")
    return seen


def add_target_page(
    campaign: Campaign,
    url: str,
    *,
    title: str = "",
    category: str = "other",
    keywords: Iterable[str] = (),
    pitch: str = "",
) -> TargetPage:
    """Add a page of our site to pitch; it must be on the campaign's site."""
    from crm.core.domains import DomainError, registrable_domain

    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise UserError(f"target URL must start with http:// or https://: {url!r}", field="url")
    try:
        domain = registrable_domain(url)
    except DomainError as exc:
        raise UserError(f"invalid target URL {url!r}: {exc}", field="url") from exc
    if domain != campaign.site.domain:
        raise UserError(
            f"target URL {url} is not on the campaign's site {campaign.site.domain}", field="url"
        )
    try:
        cat = TargetCategory(category.strip().lower())
    except ValueError:
        choices = ", ".join(c.value for c in TargetCategory)
        raise UserError(
            f"unknown category {category!r}: choose {choices}", field="category"
        ) from None
    if any(t.url == url for t in campaign.target_pages):
        raise UserError(f"target page {url} is already in this campaign", field="url")
    page = TargetPage(
        url=url,
        title=title.strip(),
        category=cat,
        topics=",".join(k.strip().lower() for k in keywords if k.strip()),
        pitch=pitch.strip(),
    )
    campaign.target_pages.append(page)
    db.session.flush()
    return page


def remove_target_page(page: TargetPage) -> None:
    """Remove a target page; prospects pitched to it lose it, confirmed or not (flush).

    They are then mapped again with the other prospects without a confirmed
    target (crm.gap.bulk_changes.unconfirmed_prospect_ids).
    """
    db.session.execute(
        update(Prospect)
        .where(Prospect.target_page_id == page.id)
        .values(target_page_id=None, target_confirmed=False)
        .execution_options(synchronize_session=False)
    )
    campaign = page.campaign
    db.session.delete(page)
    db.session.flush()
    db.session.expire(campaign, ["target_pages"])  # the loaded list still holds the page
