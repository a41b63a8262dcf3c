"""Moving prospects between deal stages by hand, one or many at a time (services: flush)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.stages import (
    BEFORE_OUTREACH,
    CLOSED,
    NEEDS_REASON,
    SYSTEM_SET,
    StageError,
    hand_move_refusal,
    parse_stage,
)
from crm.extensions import db
from crm.gap.actions import BulkResult
from crm.gap.bulk import batches
from crm.models import (
    Campaign,
    Enrollment,
    Prospect,
    ProspectStatus,
    Touchpoint,
    TouchpointKind,
    User,
    utcnow,
)
from crm.outreach.lifecycle import LIVE_STATES, stop_enrollment


def stage_of(value: ProspectStatus | str) -> ProspectStatus:
    """Return the stage named by `value` (UserError naming the stages when unknown)."""
    if isinstance(value, ProspectStatus):
        return value
    try:
        return parse_stage(value)
    except StageError as exc:
        raise UserError(str(exc), field="status") from None


def move_prospects(
    campaign: Campaign,
    ids: Sequence[int],
    stage: ProspectStatus | str,
    *,
    note: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Move prospects of `campaign` to a deal stage by hand, with a note in each timeline.

    New, qualified and excluded go through the gap's own actions (they also
    show or hide the prospect); closing a deal (lost, not a fit) stops its
    sequences. Prospects the move does not apply to are counted by reason.
    """
    from crm.gap import actions

    target = stage_of(stage)
    note = note.strip()
    if target in NEEDS_REASON and not note:
        raise UserError(f"say why these prospects are {target.label}", field="note")
    if target in SYSTEM_SET:
        raise UserError(
            f"{target.label} is set by Linkgap when {SYSTEM_SET[target]}", field="status"
        )
    now = now or utcnow()
    if target in BEFORE_OUTREACH:
        # A closed deal reopens here (the gap's actions move only prospects not yet contacted).
        reopen = _closed_ids(campaign, ids) if target != ProspectStatus.EXCLUDED else set()
        rest = [i for i in ids if i not in reopen]
        result = BulkResult()
        if rest:
            result = actions.set_status(campaign, rest, target.value, reason=note, actor=actor)
        if reopen:
            more = _move(campaign, sorted(reopen), target, note, actor, now)
            result.changed += more.changed
            for why, n in more.skipped.items():
                result.skip(why, n)
        return result
    result = _move(campaign, ids, target, note, actor, now)
    record_audit("prospects.move_stage", user=actor, object_type="campaign",
                 object_id=campaign.id, count=result.changed, stage=target.value,
                 note=note[:200])  # fmt: skip
    return result


def _closed_ids(campaign: Campaign, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in batches(list(ids)):
        found.update(
            db.session.scalars(
                select(Prospect.id).where(
                    Prospect.campaign_id == campaign.id,
                    Prospect.id.in_(chunk),
                    Prospect.status.in_(CLOSED),
                )
            )
        )
    return found


def _move(
    campaign: Campaign, ids: Sequence[int], target: ProspectStatus, note: str,
    actor: User | None, now: datetime,
) -> BulkResult:  # fmt: skip
    """Move the prospects the rules allow, log each in its timeline, count the others."""
    result = BulkResult()
    moved: list[int] = []
    for chunk in batches(list(ids)):
        rows = db.session.execute(
            select(Prospect.id, Prospect.status).where(
                Prospect.campaign_id == campaign.id, Prospect.id.in_(chunk)
            )
        ).all()
        moving = []
        for pid, before in rows:
            why = hand_move_refusal(before, target)
            if why is None:
                moving.append((pid, before))
            else:
                result.skip(why)
        if not moving:
            continue
        db.session.execute(
            update(Prospect)
            .where(Prospect.id.in_([pid for pid, _ in moving]))
            .values(status=target, status_changed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        tail = f": {note}" if note else ""
        db.session.execute(
            insert(Touchpoint),
            [
                {"prospect_id": pid, "at": now, "kind": TouchpointKind.STATUS_CHANGE,
                 "summary": f"{before.label} → {target.label}{tail}",
                 "actor_id": actor.id if actor else None,
                 "data": {"before": before.value, "after": target.value, "note": note}}
                for pid, before in moving
            ],
        )  # fmt: skip
        moved += [pid for pid, _ in moving]
        result.changed += len(moving)
    db.session.expire_all()
    if target in CLOSED and moved:
        _stop_sequences(moved, actor, now)
    return result


def _stop_sequences(prospect_ids: Sequence[int], actor: User | None, now: datetime) -> None:
    """Stop the live enrollments of closed prospects: nobody writes to a lost deal."""
    for chunk in batches(list(prospect_ids)):
        live = db.session.scalars(
            select(Enrollment).where(
                Enrollment.prospect_id.in_(chunk), Enrollment.state.in_(LIVE_STATES)
            )
        ).all()
        for enrollment in live:
            stop_enrollment(enrollment, "manual", actor, now=now)


def last_stage_note(prospect: Prospect) -> str:
    """The note of the move that put the prospect in its current stage ("" if none)."""
    for entry in reversed(prospect.touchpoints):
        if entry.kind == TouchpointKind.STATUS_CHANGE:
            data = entry.data or {}
            if data.get("after") == prospect.status.value:
                return str(data.get("note") or "")
            return ""
    return ""
