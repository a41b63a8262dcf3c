"""The merge context of a touch: contact, prospect and its best evidence, target, sender, campaign.

Shared by the sender (rendering at send time), enrollment (checking the
templates render before planning touches) and the sequence editor's preview.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import select

from crm.core.prospects import LISTED
from crm.extensions import db
from crm.models import Contact, Evidence, Mailbox, Prospect, Touch
from crm.models.base import in_list


def _evidence_rank(row: Any, competitors: frozenset[str]) -> tuple[int, int, int, int, str]:
    """Sort key of an evidence page: the page people should be told about first."""
    rel = (row.rel or "").lower()
    return (
        # The page a person gave for the prospect is its page, whatever the exports say.
        -1 if row.site == LISTED else 0 if row.site in competitors else 1,
        0 if not row.lost else 1,
        0 if "nofollow" not in rel and "sponsored" not in rel and "ugc" not in rel else 1,
        0 if row.title else 1,
        # Most recently seen first: invert the ISO date's characters.
        "".join(chr(0x10FFFF - ord(ch)) for ch in (row.last_seen or "")),
    )


@cache
def _evidence_query(postgres: bool) -> Any:
    return (
        select(
            Evidence.prospect_id,
            Evidence.site,
            Evidence.page_url,
            Evidence.title,
            Evidence.rel,
            Evidence.lost,
            Evidence.last_seen,
            Evidence.id,
        )
        .where(in_list(Evidence.prospect_id, "ids", postgres))
        .order_by(Evidence.id)
    )


def best_evidence(
    prospect_ids: Iterable[int], competitors_by_prospect: Mapping[int, Iterable[str]]
) -> dict[int, Any]:
    """Return the best evidence row (page_url, title, site) per prospect id.

    Best = a live, followed page with a title that links to a competitor of
    the prospect's campaign, most recently seen.
    """
    ids = sorted(set(prospect_ids))
    if not ids:
        return {}
    # Core on the session's connection: the sender asks for a batch at a time.
    conn = db.session.connection()
    rows = conn.execute(_evidence_query(conn.dialect.name == "postgresql"), {"ids": ids}).all()
    best: dict[int, Any] = {}
    keys: dict[int, tuple[int, int, int, int, str]] = {}
    competitors = {pid: frozenset(c) for pid, c in competitors_by_prospect.items()}
    for row in rows:
        key = _evidence_rank(row, competitors.get(row.prospect_id, frozenset()))
        if row.prospect_id not in keys or key < keys[row.prospect_id]:
            keys[row.prospect_id] = key
            best[row.prospect_id] = row
    return best


def merge_context(
    *,
    contact: Any,
    prospect_domain: str,
    link_type: str | None,
    evidence: Any | None,
    target: Mapping[str, str | None] | None,
    sender_name: str,
    sender_email: str,
    campaign_name: str,
    campaign_site: str,
) -> dict[str, dict[str, str | None]]:
    """Return the merge fields of one touch (crm.outreach.merge_fields) from plain values.

    ``contact`` has first_name, last_name, email and role attributes (a
    Contact, or a row of the sender's touch query); ``target`` url,
    title and pitch (None: the prospect has no target page yet); ``evidence``
    is a row of ``best_evidence``.
    """
    return {
        "contact": {k: getattr(contact, k) for k in ("first_name", "last_name", "email", "role")},
        "prospect": {
            "domain": prospect_domain,
            "evidence_url": evidence.page_url if evidence is not None else None,
            "evidence_title": evidence.title if evidence is not None else None,
            "competitor": evidence.site if evidence is not None else None,
            "link_type": link_type.replace("_", " ").replace("-", " ") if link_type else None,
        },
        "target": dict(target) if target is not None else {},
        "sender": {"name": sender_name, "email": sender_email},
        "campaign": {"name": campaign_name, "site": campaign_site},
    }


def context_for(
    contact: Contact, prospect: Prospect, mailbox: Mailbox, evidence: Any | None
) -> dict[str, dict[str, str | None]]:
    """Return the merge context from ORM objects and an evidence row of ``best_evidence``."""
    target = prospect.target_page
    return merge_context(
        contact=contact,
        prospect_domain=prospect.domain,
        link_type=prospect.link_type,
        evidence=evidence,
        target=(
            {"url": target.url, "title": target.title, "pitch": target.pitch}
            if target is not None
            else None
        ),
        sender_name=mailbox.from_name,
        sender_email=mailbox.from_email,
        campaign_name=prospect.campaign.name,
        campaign_site=prospect.campaign.site.domain,
    )


def touch_context(touch: Touch) -> dict[str, dict[str, str | None]]:
    """Return the merge context a touch is rendered with, read now."""
    e = touch.enrollment
    return enrollment_context(e.contact, e.prospect, e.mailbox)


def enrollment_context(
    contact: Contact, prospect: Prospect, mailbox: Mailbox
) -> dict[str, dict[str, str | None]]:
    """Return the merge context for a contact of a prospect written to from a mailbox."""
    evidence = best_evidence([prospect.id], {prospect.id: prospect.campaign.competitor_domains})
    return context_for(contact, prospect, mailbox, evidence.get(prospect.id))
