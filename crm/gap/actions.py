"""What a specialist does to prospects of the gap, one or thousands at a time (services: flush).

Bulk actions take prospect ids (a selection, or every prospect a GapFilter
matches) and change them with a few UPDATE statements per batch; status
changes also land in each prospect's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.wording import counted, thousands
from crm.extensions import db
from crm.gap.assess import reassess
from crm.gap.bulk import batches
from crm.gap.qualify import UNWINNABLE_REASONS, unwinnable
from crm.models import (
    Campaign,
    Prospect,
    ProspectStatus,
    Role,
    TargetPage,
    Touchpoint,
    TouchpointKind,
    User,
    utcnow,
)

# Statuses a bulk qualify/exclude may move from: later stages are never moved back.
EARLY = (ProspectStatus.NEW, ProspectStatus.QUALIFIED, ProspectStatus.EXCLUDED)
SETTABLE_STATUSES = ("new", "qualified", "excluded")


@dataclass
class BulkResult:
    """How many prospects an action changed, and why the others were left alone."""

    changed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    def add(self, other: BulkResult) -> None:
        """Count another batch's result into this one."""
        self.changed += other.changed
        for why, n in other.skipped.items():
            self.skip(why, n)

    def summary(self, verb: str) -> str:
        text = f"{counted(self.changed, 'prospect')} {verb}"
        if self.skipped:
            text += "; left alone: " + ", ".join(
                f"{thousands(n)} {why}" for why, n in self.skipped.items()
            )
        return text + "."


def _campaign_ids(campaign: Campaign, ids: Sequence[int]) -> list[int]:
    """Keep only ids of prospects of this campaign (never trust ids from a form)."""
    out: list[int] = []
    for chunk in batches(ids):
        out += db.session.scalars(
            select(Prospect.id).where(Prospect.campaign_id == campaign.id, Prospect.id.in_(chunk))
        )
    return out


def _update(ids: Sequence[int], **values: Any) -> None:
    for chunk in batches(ids):
        db.session.execute(
            update(Prospect)
            .where(Prospect.id.in_(chunk))
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _set_status(
    campaign: Campaign, ids: Sequence[int], status: ProspectStatus, actor: User | None,
    reason: str = "", **values: Any,
) -> BulkResult:  # fmt: skip
    """Move prospects in an early stage to `status`, logging each in its timeline."""
    result = BulkResult()
    now = utcnow()
    for chunk in batches(_campaign_ids(campaign, ids)):
        rows = db.session.execute(
            select(Prospect.id, Prospect.status).where(Prospect.id.in_(chunk))
        ).all()
        movable = [(pid, before) for pid, before in rows if before in EARLY]
        result.skip("already further in the pipeline", len(rows) - len(movable))
        moving = [(pid, before) for pid, before in movable if before != status]
        if values:
            _update([pid for pid, _ in movable], **values)
        if moving:
            _update([pid for pid, _ in moving], status=status, status_changed_at=now)
            summary = f"→ {status.label}" + (f": {reason}" if reason else "")
            db.session.execute(
                insert(Touchpoint),
                [
                    {"prospect_id": pid, "at": now, "kind": TouchpointKind.STATUS_CHANGE,
                     "summary": f"{before.label} {summary}",
                     "actor_id": actor.id if actor else None,
                     "data": {"before": before.value, "after": status.value}}
                    for pid, before in moving
                ],
            )  # fmt: skip
        result.changed += len(moving) if not values else len(movable)
    db.session.expire_all()
    return result


def qualify(campaign: Campaign, ids: Sequence[int], *, actor: User | None = None) -> BulkResult:
    """Mark prospects qualified; a hidden one is restored (a person chose it)."""
    result = _set_status(campaign, ids, ProspectStatus.QUALIFIED, actor,
                         excluded_by=None, excluded_note="", restored=True)  # fmt: skip
    record_audit("gap.qualify", user=actor, object_type="campaign", object_id=campaign.id,
                 count=result.changed)  # fmt: skip
    return result


def exclude(
    campaign: Campaign, ids: Sequence[int], reason: str, *, actor: User | None = None
) -> BulkResult:
    """Exclude prospects by hand with a reason (shown wherever they are hidden)."""
    reason = reason.strip()
    if not reason:
        raise UserError("say why these prospects are excluded", field="reason")
    result = _set_status(campaign, ids, ProspectStatus.EXCLUDED, actor, reason,
                         excluded_by="manual", excluded_note=reason[:500],
                         restored=False)  # fmt: skip
    record_audit("gap.exclude", user=actor, object_type="campaign", object_id=campaign.id,
                 count=result.changed, reason=reason)  # fmt: skip
    return result


def mark_unwinnable(
    campaign: Campaign, ids: Sequence[int], reason: str, note: str = "",
    *, actor: User | None = None,
) -> BulkResult:  # fmt: skip
    """Hide prospects that cannot be won, with the reason (news, partner, paid, personal)."""
    try:
        hidden = unwinnable(reason, note.strip() or None)
    except ValueError:
        known = ", ".join(UNWINNABLE_REASONS)
        raise UserError(f"choose why it is unwinnable: {known}", field="reason") from None
    result = _set_status(campaign, ids, ProspectStatus.EXCLUDED, actor, hidden.reason,
                         excluded_by=hidden.code, excluded_note=hidden.reason[:500],
                         restored=False)  # fmt: skip
    record_audit("gap.unwinnable", user=actor, object_type="campaign", object_id=campaign.id,
                 count=result.changed, reason=reason)  # fmt: skip
    return result


def restore(campaign: Campaign, ids: Sequence[int], *, actor: User | None = None) -> BulkResult:
    """Show hidden prospects again, whatever the rules say; excluded ones go back to new."""
    own = _campaign_ids(campaign, ids)
    hidden: list[int] = []
    for chunk in batches(own):
        hidden += db.session.scalars(
            select(Prospect.id).where(Prospect.id.in_(chunk), Prospect.excluded_by.is_not(None))
        )
    _update(hidden, excluded_by=None, excluded_note="", restored=True)
    excluded: list[int] = []
    for chunk in batches(own):
        excluded += db.session.scalars(
            select(Prospect.id).where(
                Prospect.id.in_(chunk), Prospect.status == ProspectStatus.EXCLUDED
            )
        )
    _set_status(campaign, excluded, ProspectStatus.NEW, actor, "restored")
    result = BulkResult(changed=len(set(hidden) | set(excluded)))
    result.skip("not hidden", len(own) - result.changed)
    record_audit("gap.restore", user=actor, object_type="campaign", object_id=campaign.id,
                 count=result.changed)  # fmt: skip
    return result


def set_status(
    campaign: Campaign, ids: Sequence[int], status: str, *, reason: str = "",
    actor: User | None = None,
) -> BulkResult:  # fmt: skip
    """Set a deal stage by hand: new, qualified, excluded here; later ones in core.stage_moves."""
    if status == "qualified":
        return qualify(campaign, ids, actor=actor)
    if status == "excluded":
        return exclude(campaign, ids, reason or "excluded by hand", actor=actor)
    if status == "new":
        return _set_status(campaign, ids, ProspectStatus.NEW, actor, reason)
    from crm.core.stage_moves import move_prospects

    return move_prospects(campaign, ids, status, note=reason, actor=actor)


def assign(
    campaign: Campaign, ids: Sequence[int], user: User | None, *, actor: User | None = None
) -> BulkResult:
    """Assign prospects to a campaign member (None: unassign)."""
    if user is not None:
        if not user.active:
            raise UserError(f"{user.email} is deactivated", field="assign")
        if not (user.has_role(Role.MANAGER) or campaign.is_member(user)):
            raise UserError(f"{user.email} is not a member of {campaign.name}", field="assign")
    own = _campaign_ids(campaign, ids)
    _update(own, assigned_to_id=user.id if user else None)
    record_audit("gap.assign", user=actor, object_type="campaign", object_id=campaign.id,
                 count=len(own), assignee=user.email if user else None)  # fmt: skip
    db.session.expire_all()
    return BulkResult(changed=len(own))


def find_target(campaign: Campaign, value: str | int) -> TargetPage:
    """Find a campaign's target page by id or URL (UserError naming the choices)."""
    text = str(value).strip()
    for page in campaign.target_pages:
        if str(page.id) == text or page.url == text or page.url.rstrip("/") == text.rstrip("/"):
            return page
    known = ", ".join(p.url for p in campaign.target_pages) or "none yet: add one first"
    raise UserError(f"{text!r} is not a target page of {campaign.name} ({known})", field="target")


def map_target(
    campaign: Campaign, ids: Sequence[int], target: TargetPage, *, actor: User | None = None
) -> BulkResult:
    """Pitch prospects to one target page (confirmed: re-imports keep it)."""
    if target.campaign_id != campaign.id:
        raise UserError("that target page belongs to another campaign", field="target")
    own = _campaign_ids(campaign, ids)
    _update(own, target_page_id=target.id, target_confirmed=True)
    record_audit("gap.map_target", user=actor, object_type="campaign", object_id=campaign.id,
                 count=len(own), target=target.url)  # fmt: skip
    db.session.expire_all()
    return BulkResult(changed=len(own))


def set_angle(
    campaign: Campaign, ids: Sequence[int], angle: str, *, actor: User | None = None
) -> BulkResult:
    """Set the outreach angle of prospects (a built-in or the team's own)."""
    from crm.outreach.sequences import find_angle

    slug = find_angle(angle).slug
    own = _campaign_ids(campaign, ids)
    _update(own, angle=slug)
    record_audit("gap.set_angle", user=actor, object_type="campaign", object_id=campaign.id,
                 count=len(own), angle=slug)  # fmt: skip
    db.session.expire_all()
    return BulkResult(changed=len(own))


# -- one prospect -------------------------------------------------------------


def correct_prospect(
    prospect: Prospect,
    *,
    link_type: str | None = None,
    relevance: int | None = None,
    clear_relevance: bool = False,
    actor: User | None = None,
) -> None:
    """Correct a prospect's link type or relevance by hand, then score it again."""
    from crm.gap.assess import LINK_TYPES

    if link_type is not None:
        if link_type == "":
            prospect.link_type_manual = False
        elif link_type not in LINK_TYPES:
            raise UserError(f"unknown link type {link_type!r}", field="link_type")
        else:
            prospect.link_type = link_type
            prospect.link_type_manual = True
    if clear_relevance:
        prospect.relevance_override = None
    elif relevance is not None:
        if not 1 <= relevance <= 5:
            raise UserError("relevance is rated 1 to 5", field="relevance")
        prospect.relevance_override = relevance
    db.session.flush()
    reassess(prospect.campaign, [prospect.id])
    record_audit("gap.correct", user=actor, object_type="prospect", object_id=prospect.id,
                 link_type=link_type, relevance=relevance)  # fmt: skip
    db.session.refresh(prospect)
