"""One prospect as scripts see it (CONTRACT `prospects show`), assembled from every area.

Each area adds a section: a function `(prospect) -> dict` named in PROSPECT_SECTIONS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from crm.core.errors import UserError
from crm.core.timeline import add_touchpoint
from crm.extensions import db
from crm.models import Campaign, Evidence, Prospect, TouchpointKind, User
from crm.models.prospect import categories_of

# The pseudo-site of a page a person gave for a prospect (evidence of kind "listed"):
# imports replace only the evidence of the sites they cover, so it stays.
LISTED = "(listed by hand)"

PROSPECT_SECTIONS: list[str] = [
    "crm.core.prospects:contacts_section",
    "crm.core.prospects:timeline_section",
    "crm.core.prospects:page_section",
    "crm.gap.queries:gap_section",
    "crm.outreach.enrollment:enrollments_section",
    "crm.replies.inbox:inbound_section",
    "crm.links.queries:won_links_section",
]


def iso(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def prospect_facts(p: Prospect) -> dict[str, Any]:
    """The gap facts of a prospect, in the shape of `crm gap show --format json`."""
    return gap_facts(
        p,
        target_url=p.target_page.url if p.target_page is not None else None,
        assigned_to=p.assigned_to.email if p.assigned_to is not None else None,
    )


def gap_facts(p: Any, *, target_url: str | None, assigned_to: str | None) -> dict[str, Any]:
    """Shape the gap facts of a prospect, or of a row with its columns, for scripts.

    A row serves `crm gap show --all` and the CSV export: 766,000 prospects
    read as columns, not as ORM objects with every JSON column decoded.
    """
    return {
        "domain": p.domain,
        "competitors": list(p.competitors or []),
        "overlap": p.overlap,
        "links_to_us": p.links_to_us,
        "backlinks": dict(p.backlinks or {}),
        "authority": p.authority,
        "traffic": p.traffic,
        "dofollow": p.dofollow,
        "spam": p.spam,
        "categories": categories_of(p.category_bits),
        "tier": p.tier,
        "score": round(p.score, 4),
        "status": p.status.value,
        "excluded_by": p.excluded_by,
        "target_url": target_url,
        "angle": p.angle,
        "link_type": p.link_type,
        "source": p.source,
        "assigned_to": assigned_to,
    }


def contacts_section(p: Prospect) -> dict[str, Any]:
    from crm.core.suppression import suppression_for

    return {
        "contacts": [
            {
                "email": c.email,
                "name": c.name,
                "role": c.role,
                "timezone": c.timezone or None,
                "suppressed": suppression_for(c.email) is not None,
                "bounced": c.bounced_at is not None,
            }
            for c in p.contacts
        ]
    }


def timeline_section(p: Prospect) -> dict[str, Any]:
    return {
        "timeline": [
            {"at": iso(t.at), "kind": t.kind.value, "summary": t.summary} for t in p.touchpoints
        ]
    }


def _load(target: str) -> Callable[[Prospect], dict[str, Any]]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def prospect_json(p: Prospect) -> dict[str, Any]:
    """Facts plus every area's section."""
    data = prospect_facts(p)
    for target in PROSPECT_SECTIONS:
        data.update(_load(target)(p))
    return data


def find_prospect(campaign: Campaign, domain_or_url: str) -> Prospect:
    from crm.core.domains import DomainError, registrable_domain

    try:
        domain = registrable_domain(domain_or_url)
    except DomainError as exc:
        raise UserError(f"invalid domain {domain_or_url!r}: {exc}") from exc
    prospect = db.session.scalar(
        select(Prospect).where(Prospect.campaign_id == campaign.id, Prospect.domain == domain)
    )
    if prospect is None:
        raise UserError(f"no prospect {domain} in campaign {campaign.name}")
    return prospect


def listed_page(prospect: Prospect) -> str | None:
    """The page a person gave for this prospect, if any."""
    return db.session.scalar(
        select(Evidence.page_url)
        .where(Evidence.prospect_id == prospect.id, Evidence.site == LISTED)
        .order_by(Evidence.id.desc())
        .limit(1)
    )


def prospect_page(prospect: Prospect) -> str | None:
    """The prospect's own page: the one it was added from, else its best evidence page."""
    from crm.outreach.context import best_evidence

    best = best_evidence([prospect.id], {prospect.id: prospect.campaign.competitor_domains})
    row = best.get(prospect.id)
    return row.page_url if row is not None else None


def page_section(p: Prospect) -> dict[str, Any]:
    return {"page": prospect_page(p)}


def clean_page_url(prospect: Prospect, raw: str) -> str:
    """Return `raw` as an http(s) URL on the prospect's own domain (UserError saying why not)."""
    from urllib.parse import urlsplit

    from crm.core.domains import DomainError, registrable_domain

    url = raw.strip()
    if not url:
        raise UserError("give the page's URL", field="page_url")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{raw.strip()!r} is not a web page's URL", field="page_url")
    if any(ch.isspace() for ch in url) or len(url) > 2000:
        raise UserError(f"{raw.strip()[:80]!r} is not a web page's URL", field="page_url")
    try:
        domain = registrable_domain(parts.hostname)
    except DomainError as exc:
        raise UserError(f"{parts.hostname}: {exc}", field="page_url") from None
    if domain != prospect.domain:
        raise UserError(f"that page is on {domain}, not on {prospect.domain}", field="page_url")
    return url


def set_prospect_page(prospect: Prospect, raw: str, *, actor: User | None = None) -> str:
    """Make `raw` the prospect's page (evidence of kind "listed"), replacing an earlier one."""
    from sqlalchemy import delete

    url = clean_page_url(prospect, raw)
    db.session.execute(
        delete(Evidence).where(Evidence.prospect_id == prospect.id, Evidence.site == LISTED)
    )
    db.session.add(Evidence(prospect_id=prospect.id, site=LISTED, page_url=url))
    add_touchpoint(prospect, TouchpointKind.NOTE, f"Page set to {url}", actor=actor)
    db.session.flush()
    return url
