"""One prospect as scripts see it (CONTRACT `prospects show`), assembled from every area.

Each area adds a section: a function `(prospect) -> dict` named in PROSPECT_SECTIONS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Campaign, Prospect

PROSPECT_SECTIONS: list[str] = [
    "crm.core.prospects:contacts_section",
    "crm.core.prospects:timeline_section",
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
        "categories": p.categories,
        "tier": p.tier,
        "score": round(p.score, 4),
        "status": p.status.value,
        "excluded_by": p.excluded_by,
        "target_url": p.target_page.url if p.target_page is not None else None,
        "angle": p.angle,
        "link_type": p.link_type,
        "source": p.source,
        "assigned_to": p.assigned_to.email if p.assigned_to is not None else None,
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
