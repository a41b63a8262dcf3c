"""Logging won links and recording their checks (services: flush, never commit)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.storable import storable
from crm.core.timeline import add_touchpoint, change_status
from crm.extensions import db
from crm.links.anchors import AnchorSuggestion, suggest_anchor_type
from crm.links.fetch import Fetched
from crm.links.settings import link_settings
from crm.links.urls import clean_page_url, link_key, on_domain
from crm.links.verdict import Logged, Verdict, next_state, summary
from crm.models import (
    AnchorType,
    Campaign,
    CheckResult,
    Enrollment,
    InboundMessage,
    LinkCheck,
    LinkRel,
    LinkState,
    Notification,
    Prospect,
    ProspectStatus,
    ReclamationState,
    ReclamationTask,
    StopReason,
    TargetPage,
    TouchpointKind,
    User,
    WonLink,
    utcnow,
)

MAX_ANCHOR = 500
# Found-link evidence older than the newest few checks is dropped; a miss keeps its page.
KEEP_FOUND_HTML = 5
# "Today" reaches 14 hours ahead of UTC: a date that is today somewhere on Earth is not future.
_LATEST_TIMEZONE = timedelta(hours=14)


@dataclass(frozen=True)
class LinkInput:
    """The fields of the won-link form (and of `crm links add`), as typed."""

    source_url: str
    target_url: str
    anchor: str = ""
    anchor_type: str = ""  # empty: take the suggestion
    rel: str = "dofollow"
    placed_on: str | date | None = None  # empty: today
    note: str = ""


@dataclass(frozen=True)
class CleanLink:
    source_url: str
    target_url: str
    target_page: TargetPage | None
    anchor: str
    anchor_type: AnchorType
    rel: LinkRel
    placed_on: date
    note: str
    suggestion: AnchorSuggestion


def brand_of(campaign: Campaign) -> str:
    return campaign.site.name or ""


def target_keywords(campaign: Campaign, target: TargetPage | None) -> list[str]:
    """The keywords an exact anchor would be: the target page's topics, else its title."""
    if target is None:
        return []
    return target.topic_list or ([target.title] if target.title else [])


def find_target_page(campaign: Campaign, url: str) -> TargetPage | None:
    key = link_key(url)
    return next((t for t in campaign.target_pages if link_key(t.url) == key), None)


def suggest_for(campaign: Campaign, anchor: str, target_url: str) -> AnchorSuggestion:
    target = find_target_page(campaign, target_url) if target_url else None
    return suggest_anchor_type(
        anchor, brand=brand_of(campaign), site_domain=campaign.site.domain,
        keywords=target_keywords(campaign, target),
    )  # fmt: skip


def _choice(value: str, enum_cls: Any, field: str, label: str) -> Any:
    text = (value or "").strip().lower().replace(" url", "").replace("-", "")
    try:
        return enum_cls(text)
    except ValueError:
        known = ", ".join(m.value for m in enum_cls)
        raise UserError(f"{label}: unknown {value!r} (use {known})", field=field) from None


def _placed_on(value: str | date | None, now: datetime) -> date:
    latest = (now + _LATEST_TIMEZONE).date()
    if value in (None, ""):
        return now.date()
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise UserError(
                f"placed date: {value!r} is not a date (use YYYY-MM-DD)", field="placed_on"
            ) from None
    if day > latest:
        raise UserError(f"placed date: {day.isoformat()} is in the future", field="placed_on")
    if day.year < 1995:
        raise UserError(f"placed date: {day.isoformat()} is too far in the past", field="placed_on")
    return day


def clean_link_input(prospect: Prospect, data: LinkInput, now: datetime) -> CleanLink:
    """Validate a won link's fields for a prospect; UserError naming the first bad field."""
    campaign = prospect.campaign
    source = clean_page_url(data.source_url, "source_url", "source URL")
    if not on_domain(source, prospect.domain):
        from urllib.parse import urlsplit

        raise UserError(
            f"source URL: {urlsplit(source).hostname} is not on {prospect.domain}, the "
            "prospect's domain (or one of its subdomains)",
            field="source_url",
        )
    target = clean_page_url(data.target_url, "target_url", "target URL")
    site = campaign.site.domain
    if not on_domain(target, site):
        from urllib.parse import urlsplit

        raise UserError(
            f"target URL: {urlsplit(target).hostname} is outside our site {site}",
            field="target_url",
        )
    anchor = " ".join((data.anchor or "").split())
    if len(anchor) > MAX_ANCHOR:
        raise UserError(f"anchor text: longer than {MAX_ANCHOR} characters", field="anchor")
    suggestion = suggest_for(campaign, anchor, target)
    anchor_type = (
        _choice(data.anchor_type, AnchorType, "anchor_type", "anchor type")
        if (data.anchor_type or "").strip()
        else suggestion.anchor_type
    )
    if not anchor and anchor_type != AnchorType.IMAGE:
        raise UserError("anchor text: enter the link's text (empty only for an image link)",
                        field="anchor")  # fmt: skip
    rel = _choice(data.rel or "dofollow", LinkRel, "rel", "rel")
    if len(data.note or "") > 5000:
        raise UserError("note: longer than 5000 characters", field="note")
    return CleanLink(
        source_url=source, target_url=target, target_page=find_target_page(campaign, target),
        anchor=anchor, anchor_type=anchor_type, rel=rel,
        placed_on=_placed_on(data.placed_on, now), note=(data.note or "").strip(),
        suggestion=suggestion,
    )  # fmt: skip


def find_duplicate(prospect: Prospect, source_url: str, target_url: str) -> WonLink | None:
    """An existing link from the same page to the same target (URL spellings aside).

    A source page is on its prospect's domain, so only that prospect's links can repeat it.
    """
    source_key, target_key = link_key(source_url), link_key(target_url)
    candidates = db.session.scalars(
        select(WonLink).where(
            WonLink.campaign_id == prospect.campaign_id, WonLink.prospect_id == prospect.id
        )
    ).all()
    for link in candidates:
        if link_key(link.source_url) == source_key and link_key(link.target_url) == target_key:
            return link
    return None


def stop_live_enrollments(prospect: Prospect, actor: User | None, now: datetime) -> int:
    from crm.outreach.lifecycle import LIVE_STATES, stop_enrollment

    live = db.session.scalars(
        select(Enrollment).where(
            Enrollment.prospect_id == prospect.id, Enrollment.state.in_(LIVE_STATES)
        )
    ).all()
    return sum(bool(stop_enrollment(e, StopReason.WON, actor, now=now)) for e in live)


def log_won_link(
    prospect: Prospect,
    data: LinkInput,
    *,
    actor: User | None,
    message: InboundMessage | None = None,
    now: datetime | None = None,
) -> WonLink:
    """Log a won link: the prospect becomes won, its live sequences stop (reason `won`)."""
    now = now or utcnow()
    clean = clean_link_input(prospect, data, now)
    if message is not None and message.prospect_id != prospect.id:
        raise UserError("that reply belongs to another prospect")
    duplicate = find_duplicate(prospect, clean.source_url, clean.target_url)
    if duplicate is not None:
        raise UserError(
            f"source URL: this page's link to {clean.target_url} is already logged "
            f"(link {duplicate.id}, placed {duplicate.placed_on.isoformat()})",
            field="source_url",
        )
    link = WonLink(
        campaign_id=prospect.campaign_id, prospect=prospect, source_url=clean.source_url,
        target_url=clean.target_url, target_page=clean.target_page, anchor=clean.anchor,
        anchor_type=clean.anchor_type, rel=clean.rel, placed_on=clean.placed_on,
        note=clean.note, logged_by_id=actor.id if actor else None,
        inbound_message_id=message.id if message else None, state=LinkState.UNCHECKED,
        state_changed_at=now, created_at=now,
    )  # fmt: skip
    try:
        # A savepoint: two people saving the same link at once get the duplicate message.
        with db.session.begin_nested():
            db.session.add(link)
            db.session.flush()
    except IntegrityError:
        raise UserError(f"source URL: this page's link to {clean.target_url} is already logged",
                        field="source_url") from None  # fmt: skip
    add_touchpoint(
        prospect, TouchpointKind.LINK_WON,
        f"Link won: {clean.source_url} → {clean.target_url} "
        f"(“{clean.anchor or 'image'}”, {clean.anchor_type.label}, {clean.rel.value})",
        actor=actor, at=now, won_link_id=link.id,
    )  # fmt: skip
    change_status(prospect, ProspectStatus.WON, actor=actor, reason="link won", at=now)
    stop_live_enrollments(prospect, actor, now)
    record_audit("link.logged", user=actor, object_type="won_link", object_id=link.id,
                 source_url=clean.source_url, target_url=clean.target_url)  # fmt: skip
    db.session.flush()
    return link


def update_won_link(
    link: WonLink, data: LinkInput, *, actor: User | None, now: datetime | None = None
) -> bool:
    """Correct what was logged; a new source or target starts its checks afresh.

    Returns whether the page must be checked again (source or target changed).
    """
    now = now or utcnow()
    clean = clean_link_input(link.prospect, data, now)
    duplicate = find_duplicate(link.prospect, clean.source_url, clean.target_url)
    if duplicate is not None and duplicate.id != link.id:
        raise UserError(
            f"source URL: this page's link to {clean.target_url} is already logged "
            f"(link {duplicate.id})",
            field="source_url",
        )
    moved = (link_key(clean.source_url), link_key(clean.target_url)) != (
        link_key(link.source_url), link_key(link.target_url),
    )  # fmt: skip
    link.source_url, link.target_url = clean.source_url, clean.target_url
    link.target_page = clean.target_page
    link.anchor, link.anchor_type, link.rel = clean.anchor, clean.anchor_type, clean.rel
    link.placed_on, link.note = clean.placed_on, clean.note
    if moved:
        link.state, link.state_changed_at = LinkState.UNCHECKED, now
        link.consecutive_misses = 0
        link.rel_mismatch = link.anchor_mismatch = False
        link.last_check_summary = ""
    record_audit("link.edited", user=actor, object_type="won_link", object_id=link.id,
                 source_url=clean.source_url, target_url=clean.target_url)  # fmt: skip
    db.session.flush()
    return moved


def delete_won_link(link: WonLink, *, actor: User | None) -> None:
    """Remove a link logged by mistake (its checks and tasks go with it); the timeline says so."""
    summary = f"Won link removed: {link.source_url} → {link.target_url}"
    add_touchpoint(link.prospect, TouchpointKind.NOTE, summary, actor=actor)
    record_audit("link.deleted", user=actor, object_type="won_link", object_id=link.id,
                 source_url=link.source_url, target_url=link.target_url)  # fmt: skip
    db.session.execute(delete(ReclamationTask).where(ReclamationTask.won_link_id == link.id))
    db.session.execute(delete(LinkCheck).where(LinkCheck.won_link_id == link.id))
    db.session.delete(link)
    db.session.flush()


def logged_of(link: WonLink) -> Logged:
    return Logged(
        source_url=link.source_url, target_url=link.target_url, anchor=link.anchor,
        anchor_type=link.anchor_type, rel=link.rel,
    )  # fmt: skip


def _compress(html: str | None) -> bytes | None:
    if html is None:
        return None
    return zlib.compress(html.encode("utf-8", errors="replace"), 6)


def check_html(check: LinkCheck) -> str | None:
    """The stored page of a check, as text."""
    if check.html_zlib is None:
        return None
    return zlib.decompress(check.html_zlib).decode("utf-8", errors="replace")


def record_check(
    link: WonLink, fetched: Fetched, verdict: Verdict, *, now: datetime | None = None
) -> LinkCheck:
    """Store one check of a link and move the link's state; a new loss opens a reclamation task."""
    now = now or utcnow()
    fetched, verdict = storable(fetched), storable(verdict)  # a page's headers and text are hostile
    settings = link_settings(link.campaign.settings)
    before = link.state
    state, misses = next_state(before, link.consecutive_misses, verdict.result,
                               settings.lost_after)  # fmt: skip
    check = LinkCheck(
        won_link_id=link.id, checked_at=now, result=verdict.result, reason=verdict.reason,
        http_status=fetched.status, final_url=(fetched.final_url or "")[:2048],
        hops=[h.as_json() for h in fetched.hops], via_proxy=fetched.via_proxy,
        content_type=fetched.content_type[:200], actual_anchor=verdict.actual_anchor,
        actual_rel=verdict.actual_rel.value if verdict.actual_rel else None,
        rel_detail=verdict.rel_detail, robots=", ".join(verdict.robots)[:200],
        rel_mismatch=verdict.rel_mismatch, anchor_mismatch=verdict.anchor_mismatch,
        html_zlib=_compress(verdict.html),
        html_bytes=len(fetched.body or b""), charset=verdict.charset[:40],
        duration_ms=fetched.duration_ms, state_after=state,
    )  # fmt: skip
    db.session.add(check)
    link.consecutive_misses = misses
    link.last_checked_at = now
    link.last_check_summary = summary(verdict, misses, settings.lost_after, state)[:1000]
    if verdict.result == CheckResult.FOUND:
        link.rel_mismatch = verdict.rel_mismatch
        link.anchor_mismatch = verdict.anchor_mismatch
    if state != before:
        link.state = state
        link.state_changed_at = now
        _on_state_change(link, before, state, verdict, now)
    db.session.flush()
    _prune_evidence(link)
    return check


def _on_state_change(
    link: WonLink, before: LinkState, state: LinkState, verdict: Verdict, now: datetime
) -> None:
    if state == LinkState.LOST:
        add_touchpoint(
            link.prospect, TouchpointKind.LINK_LOST,
            f"Link lost: {link.source_url} → {link.target_url} ({verdict.reason})",
            at=now, won_link_id=link.id,
        )  # fmt: skip
        open_reclamation_task(link, now)
    elif before == LinkState.LOST and state == LinkState.LIVE:
        add_touchpoint(
            link.prospect, TouchpointKind.NOTE,
            f"Link back: {link.source_url} links to {link.target_url} again",
            at=now, won_link_id=link.id,
        )  # fmt: skip
        db.session.execute(
            update(ReclamationTask)
            .where(
                ReclamationTask.won_link_id == link.id,
                ReclamationTask.state.in_((ReclamationState.OPEN, ReclamationState.SENT)),
            )
            .values(state=ReclamationState.RESOLVED, closed_at=now)
        )


def open_reclamation_task(link: WonLink, now: datetime) -> ReclamationTask:
    """The task a lost link creates (one open task per link), and a notification to its people."""
    existing = db.session.scalar(
        select(ReclamationTask).where(
            ReclamationTask.won_link_id == link.id,
            ReclamationTask.state.in_((ReclamationState.OPEN, ReclamationState.SENT)),
        )
    )
    if existing is not None:
        return existing
    task = ReclamationTask(
        campaign_id=link.campaign_id, prospect_id=link.prospect_id, won_link_id=link.id,
        state=ReclamationState.OPEN, created_at=now,
    )  # fmt: skip
    db.session.add(task)
    db.session.flush()
    people = {u for u in (link.logged_by, link.prospect.assigned_to) if u is not None}
    for user in people:
        db.session.add(
            Notification(
                user_id=user.id, created_at=now,
                text=f"Link lost on {link.prospect.domain}: {link.source_url}"[:500],
                link=f"/campaigns/{link.campaign_id}/links/{link.id}",
                data={"won_link_id": link.id, "reclamation_task_id": task.id},
            )
        )  # fmt: skip
    return task


def _prune_evidence(link: WonLink) -> None:
    """Keep the page of the newest found checks and of every miss; drop older found pages."""
    old = db.session.scalars(
        select(LinkCheck.id)
        .where(
            LinkCheck.won_link_id == link.id,
            LinkCheck.result == CheckResult.FOUND,
            LinkCheck.html_zlib.is_not(None),
        )
        .order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc())
        .offset(KEEP_FOUND_HTML)
    ).all()
    if old:
        db.session.execute(
            update(LinkCheck).where(LinkCheck.id.in_(old)).values(html_zlib=None),
            execution_options={"synchronize_session": False},
        )
