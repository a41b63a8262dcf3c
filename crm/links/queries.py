"""Reading won links: the JSON scripts see, the filtered list, the risk figures, CSV rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from crm.core.ids import parse_id
from crm.core.prospects import iso
from crm.extensions import db
from crm.links.anchors import suggest_anchor_type
from crm.links.risk import MixLink, RiskReport, assess_risk
from crm.links.service import brand_of, target_keywords
from crm.links.settings import link_settings
from crm.links.urls import link_key
from crm.models import (
    AnchorType,
    Campaign,
    LinkRel,
    LinkState,
    Prospect,
    ReclamationState,
    ReclamationTask,
    WonLink,
)

CSV_HEADER = [
    "id", "campaign", "prospect", "source_url", "target_url", "target_page", "anchor",
    "anchor_type", "rel", "placed_on", "state", "last_checked_at", "last_check",
    "rel_mismatch", "anchor_mismatch", "logged_by", "note",
]  # fmt: skip


def link_json(link: WonLink) -> dict[str, Any]:
    """One won link (CONTRACT `won_links`: source_url ... state, and more)."""
    return {
        "id": link.id,
        "campaign": link.campaign.name,
        "prospect": link.prospect.domain,
        "source_url": link.source_url,
        "target_url": link.target_url,
        "target_page": link.target_page.url if link.target_page is not None else None,
        "anchor": link.anchor,
        "anchor_type": link.anchor_type.value,
        "rel": link.rel.value,
        "placed_on": link.placed_on.isoformat(),
        "state": link.state.value,
        "state_changed_at": iso(link.state_changed_at),
        "last_checked_at": iso(link.last_checked_at),
        "last_check": link.last_check_summary or None,
        "consecutive_misses": link.consecutive_misses,
        "rel_mismatch": link.rel_mismatch,
        "anchor_mismatch": link.anchor_mismatch,
        "logged_by": link.logged_by.email if link.logged_by is not None else None,
        "note": link.note,
    }


def won_links_section(prospect: Prospect) -> dict[str, Any]:
    links = db.session.scalars(
        select(WonLink).where(WonLink.prospect_id == prospect.id).order_by(WonLink.id)
    ).all()
    return {"won_links": [link_json(link) for link in links]}


@dataclass(frozen=True)
class LinkFilters:
    campaign_ids: tuple[int, ...] | None = None  # None: every campaign (scripts)
    state: str = ""
    anchor_type: str = ""
    rel: str = ""
    target: str = ""  # a target page id, or "other"
    flagged: bool = False  # rel or anchor differs from what was logged
    q: str = ""  # part of the prospect's domain or of the source URL
    sort: str = "placed"

    @property
    def active(self) -> bool:
        return any((self.state, self.anchor_type, self.rel, self.target, self.flagged, self.q))


SORTS: dict[str, tuple[Any, ...]] = {
    "placed": (WonLink.placed_on.desc(), WonLink.id.desc()),
    "checked": (WonLink.last_checked_at.desc().nulls_last(), WonLink.id.desc()),
    "state": (WonLink.state, WonLink.placed_on.desc()),
    "prospect": (Prospect.domain, WonLink.id),
}


def links_query(f: LinkFilters) -> Select[Any]:
    """Select won links (with their prospect) matching the filters, sorted."""
    stmt = (
        select(WonLink)
        .join(Prospect, Prospect.id == WonLink.prospect_id)
        .options(
            joinedload(WonLink.prospect), joinedload(WonLink.logged_by),
            joinedload(WonLink.target_page), joinedload(WonLink.campaign),
        )
    )  # fmt: skip
    if f.campaign_ids is not None:
        stmt = stmt.where(WonLink.campaign_id.in_(f.campaign_ids or (-1,)))
    if f.state in {s.value for s in LinkState}:
        stmt = stmt.where(WonLink.state == LinkState(f.state))
    if f.anchor_type in {a.value for a in AnchorType}:
        stmt = stmt.where(WonLink.anchor_type == AnchorType(f.anchor_type))
    if f.rel in {r.value for r in LinkRel}:
        stmt = stmt.where(WonLink.rel == LinkRel(f.rel))
    if f.target == "other":
        stmt = stmt.where(WonLink.target_page_id.is_(None))
    elif (target_id := parse_id(f.target)) is not None:
        stmt = stmt.where(WonLink.target_page_id == target_id)
    if f.flagged:
        stmt = stmt.where(or_(WonLink.rel_mismatch.is_(True), WonLink.anchor_mismatch.is_(True)))
    if f.q.strip():
        needle = f"%{f.q.strip().lower()}%"
        stmt = stmt.where(or_(Prospect.domain.like(needle), WonLink.source_url.ilike(needle)))
    return stmt.order_by(*SORTS.get(f.sort, SORTS["placed"]))


def csv_rows(links: Iterable[WonLink]) -> Iterator[list[Any]]:
    yield CSV_HEADER
    for link in links:
        data = link_json(link)
        yield [data[k] for k in CSV_HEADER]


def open_tasks(campaign_ids: Iterable[int]) -> list[ReclamationTask]:
    return list(
        db.session.scalars(
            select(ReclamationTask)
            .where(
                ReclamationTask.campaign_id.in_(list(campaign_ids) or [-1]),
                ReclamationTask.state == ReclamationState.OPEN,
            )
            .options(joinedload(ReclamationTask.won_link), joinedload(ReclamationTask.prospect))
            .order_by(ReclamationTask.created_at.desc())
        )
    )


# --- risk ---------------------------------------------------------------------------------


def _mix_links(campaign: Campaign) -> list[MixLink]:
    """Every won link of the campaign's site (all its campaigns), as the risk rules see it."""
    rows = db.session.execute(
        select(WonLink, Campaign)
        .join(Campaign, Campaign.id == WonLink.campaign_id)
        .where(Campaign.site_id == campaign.site_id)
        .options(joinedload(WonLink.target_page))
    ).all()
    out = []
    for link, owner in rows:
        anchor, anchor_type = link.anchor, link.anchor_type
        if link.anchor_mismatch:
            seen = _last_found_anchor(link)
            if seen is not None:
                anchor = seen
                anchor_type = suggest_anchor_type(
                    seen, brand=brand_of(owner), site_domain=owner.site.domain,
                    keywords=target_keywords(owner, link.target_page),
                ).anchor_type  # fmt: skip
        out.append(
            MixLink(anchor=anchor, anchor_type=anchor_type, target_key=link_key(link.target_url)
                    or link.target_url, placed_on=link.placed_on,
                    rel_mismatch=link.rel_mismatch, anchor_mismatch=link.anchor_mismatch)
        )  # fmt: skip
    return out


def _last_found_anchor(link: WonLink) -> str | None:
    from crm.models import CheckResult, LinkCheck

    found: str | None = db.session.scalar(
        select(LinkCheck.actual_anchor)
        .where(LinkCheck.won_link_id == link.id, LinkCheck.result == CheckResult.FOUND)
        .order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc())
        .limit(1)
    )
    return found


def campaign_risk(
    campaign: Campaign,
    *,
    today: date,
    target_url: str | None = None,
    candidate: MixLink | None = None,
) -> RiskReport:
    """The risk panel of a campaign's site (and of one target page), optionally with a new link."""
    target_key = link_key(target_url) if target_url else None
    label = target_url or ""
    for page in campaign.target_pages:
        if target_key is not None and link_key(page.url) == target_key:
            label = page.title or page.url
    return assess_risk(
        _mix_links(campaign), settings=link_settings(campaign.settings), today=today,
        site_label=campaign.site.domain, target_key=target_key, target_label=label,
        candidate=candidate,
    )  # fmt: skip
