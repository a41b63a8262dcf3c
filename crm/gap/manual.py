"""Prospects added by hand or from a plain list of URLs/domains (adjacent opportunities).

Resource pages, newsletter curators and the like come from outside the
exports. They go through the same domain normalisation, dedupe against the
campaign, link type, qualification rules, scoring and target/angle mapping as
imported domains, and keep the source tag the team gave the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from crm.core.audit import record_audit
from crm.core.domains import DomainError, registrable_domain
from crm.core.errors import UserError
from crm.core.prospects import LISTED, find_prospect, listed_page, set_prospect_page
from crm.extensions import db
from crm.gap.assess import PriorState, assess, gap_context, judge_facts
from crm.gap.bulk import bulk_update
from crm.gap.compute import classify
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.facts import DomainFacts
from crm.models import Campaign, Evidence, Prospect, User


@dataclass
class AddResult:
    """What adding a list did: prospects added, domains already there, lines refused."""

    added: list[Prospect] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    # Prospects already there that had no page and were given the URL as their page.
    paged: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def _is_url(text: str) -> bool:
    return "://" in text or "/" in text.strip("/")


def add_prospects(
    campaign: Campaign,
    values: Iterable[str],
    *,
    source: str = "manual",
    actor: User | None = None,
) -> AddResult:
    """Add prospects from domains or URLs (one per value), skipping those already there."""
    source = (source or "manual").strip()[:120] or "manual"
    own = {campaign.site.domain: "the campaign's own site"}
    own |= {c: "a competitor" for c in campaign.competitor_domains}
    result = AddResult()
    wanted: dict[str, str | None] = {}
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        try:
            domain = registrable_domain(text)
        except DomainError as exc:
            result.invalid.append((text, str(exc)))
            continue
        if domain in own:
            result.invalid.append((text, f"{domain} is {own[domain]}"))
            continue
        url = text if _is_url(text) else None
        if url is not None and "://" not in url:
            url = "https://" + url
        if domain not in wanted or (url and not wanted[domain]):
            wanted[domain] = url
    if not wanted and not result.invalid and not result.existing:
        raise UserError("give at least one domain or URL", field="domains")
    there = set(
        db.session.scalars(
            select(Prospect.domain).where(
                Prospect.campaign_id == campaign.id, Prospect.domain.in_(list(wanted))
            )
        )
    )
    result.existing = sorted(d for d in wanted if d in there)
    for domain in result.existing:
        url = wanted[domain]
        if url:
            prospect = find_prospect(campaign, domain)
            if listed_page(prospect) is None:
                set_prospect_page(prospect, url, actor=actor)
                result.paged.append(domain)
    for domain in wanted:
        if domain in there:
            continue
        prospect = Prospect(campaign_id=campaign.id, domain=domain, source=source)
        db.session.add(prospect)
        result.added.append(prospect)
    db.session.flush()
    # The URL a prospect was added from is its page (evidence of kind "listed").
    for prospect in result.added:
        if wanted[prospect.domain]:
            db.session.add(Evidence(prospect_id=prospect.id, site=LISTED,
                                    page_url=wanted[prospect.domain]))  # fmt: skip
    ctx = gap_context(campaign)
    facts = {}
    for prospect in result.added:
        url = wanted[prospect.domain]
        pages = {LISTED: (PageEvidence(page_url=url),)} if url else {}
        facts[prospect.id] = DomainFacts(prospect.domain, evidence=pages)  # type: ignore[arg-type]
    verdicts = judge_facts(facts.values())
    values_out = []
    for prospect in result.added:
        fact = facts[prospect.id]
        state = PriorState(prospect.id, None, False, False, None, False, None, "", None, False,
                           None, 0)  # fmt: skip
        row = classify(fact, ctx.gap)
        values_out.append({"id": prospect.id, **assess(row, fact, state, ctx, verdicts)})
    if values_out:
        bulk_update(Prospect, values_out)
        for prospect in result.added:
            db.session.refresh(prospect)
    record_audit("gap.add_prospects", user=actor, object_type="campaign", object_id=campaign.id,
                 added=len(result.added), source=source)  # fmt: skip
    return result
