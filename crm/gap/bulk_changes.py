"""Bulk actions of the gap table, and the big ones that run a batch per transaction.

A selection of up to one batch is changed in the request's transaction. A
bigger one (every prospect a view matches, say 300,000) becomes a
BulkChange: one transaction for all of it held SQLite's write lock for the
whole action (17 s for 300,000 prospects), so everyone else's writes waited
or failed. Its first batch runs in the request, so a bad choice (no reason,
a deactivated assignee) is refused on the form before anything runs in the
background; a thread applies the rest, each batch committed with the
change's progress. New rules & weights and added or removed target pages
assess a big campaign's prospects again the same way ("apply_rules",
"map_targets": not offered by the gap table's form).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.core.errors import UserError
from crm.core.ids import parse_id
from crm.core.stage_moves import move_prospects
from crm.core.wording import counted
from crm.extensions import db
from crm.gap import actions
from crm.gap.assess import reapply_rules, reassess
from crm.gap.background import in_thread
from crm.gap.background import interrupted as job_interrupted
from crm.gap.bulk import batches
from crm.gap.queries import GapFilter, matching_ids
from crm.gap.service import running_import
from crm.models import BulkChange, BulkChangeState, Campaign, Prospect, User, utcnow

log = logging.getLogger(__name__)

# Prospects changed per transaction (config GAP_BULK_BATCH). Measured on a
# 2-core machine: 0.17 s a batch to qualify, 0.39 s to apply the rules again;
# another writer waited at most 0.33 s.
BATCH = 2000
# A running change that committed no batch for this long was interrupted (its
# process stopped): a batch takes well under a second.
INTERRUPTED_AFTER = timedelta(minutes=2)
# The choices each bulk action takes, as the gap table's form names them (the
# form sends every field; a change keeps those of its action).
CHOICES = {
    "exclude": ("reason",),
    "unwinnable": ("unwinnable_reason", "reason"),
    "stage": ("stage", "reason"),
    "assign": ("assignee",),
    "map_target": ("target_id",),
    "set_angle": ("angle",),
    "map_target_angle": ("target_id", "angle"),
}
# Actions that follow a manager's change of the rules or target pages.
MANAGERS_ONLY = ("apply_rules", "map_targets")
CHOICE_FIELDS = ("reason", "unwinnable_reason", "stage", "assignee", "target_id", "angle")

VERBS = {
    "qualify": "qualified",
    "exclude": "excluded",
    "unwinnable": "marked unwinnable",
    "restore": "restored",
    "assign": "assigned",
    "map_target": "mapped to the target page",
    "set_angle": "given the angle",
    "map_target_angle": "mapped to the target page with the angle",
    "stage": "moved",
    "apply_rules": "re-qualified and re-scored",
    "map_targets": "mapped to the target pages again",
}
# How a change is named on its page ({n}: "300,000 prospects").
DOING = {
    "qualify": "Qualifying {n}",
    "exclude": "Excluding {n}",
    "unwinnable": "Marking {n} unwinnable",
    "restore": "Restoring {n}",
    "assign": "Assigning {n}",
    "map_target": "Mapping {n} to the target page",
    "set_angle": "Setting the angle of {n}",
    "map_target_angle": "Mapping {n} to the target page with the angle",
    "stage": "Moving {n}",
    "apply_rules": "Applying the rules again to {n}",
    "map_targets": "Mapping {n} to the target pages again",
}


def batch_size(config: Mapping[str, Any]) -> int:
    """Return how many prospects a bulk change changes per transaction (GAP_BULK_BATCH)."""
    return int(config.get("GAP_BULK_BATCH") or BATCH)


def apply_bulk_action(
    campaign: Campaign, action: str, choices: Mapping[str, str], ids: Sequence[int],
    *, actor: User | None,
) -> actions.BulkResult:  # fmt: skip
    """Apply a bulk action (the gap table's, or an assessment again) to prospects (flush)."""
    reason = choices.get("reason", "")
    if action == "qualify":
        return actions.qualify(campaign, ids, actor=actor)
    if action == "exclude":
        return actions.exclude(campaign, ids, reason, actor=actor)
    if action == "unwinnable":
        return actions.mark_unwinnable(campaign, ids, choices.get("unwinnable_reason", ""),
                                       reason, actor=actor)  # fmt: skip
    if action == "restore":
        return actions.restore(campaign, ids, actor=actor)
    if action == "stage":
        return move_prospects(campaign, ids, choices.get("stage", ""), note=reason, actor=actor)
    if action == "assign":
        raw = choices.get("assignee", "")
        user_id = parse_id(raw)
        user = db.session.get(User, user_id) if user_id is not None else None
        if raw and user is None:
            raise UserError("choose whom to assign to", field="assignee")
        return actions.assign(campaign, ids, user, actor=actor)
    if action == "map_target":
        target = actions.find_target(campaign, choices.get("target_id", ""))
        return actions.map_target(campaign, ids, target, actor=actor)
    if action == "set_angle":
        return actions.set_angle(campaign, ids, choices.get("angle", ""), actor=actor)
    if action == "map_target_angle":
        # One pass for the usual pairing: the page to point at and how to pitch it.
        target = actions.find_target(campaign, choices.get("target_id", ""))
        actions.map_target(campaign, ids, target, actor=actor)
        return actions.set_angle(campaign, ids, choices.get("angle", ""), actor=actor)
    # After the rules & weights or the target pages changed (not gap table actions).
    if action == "apply_rules":
        return actions.BulkResult(changed=reapply_rules(campaign, ids))
    if action == "map_targets":
        return actions.BulkResult(changed=reassess(campaign, ids))
    raise UserError("choose an action", field="action")


def campaign_prospect_ids(campaign: Campaign) -> list[int]:
    """Return the ids of every prospect of the campaign."""
    return list(db.session.scalars(select(Prospect.id).where(Prospect.campaign_id == campaign.id)))


def unconfirmed_prospect_ids(campaign: Campaign) -> list[int]:
    """Return the ids of the campaign's prospects whose target page nobody confirmed."""
    return list(
        db.session.scalars(
            select(Prospect.id).where(
                Prospect.campaign_id == campaign.id, Prospect.target_confirmed.is_(False)
            )
        )
    )


def running_bulk_change(campaign: Campaign, now: datetime | None = None) -> BulkChange | None:
    """Return the campaign's bulk change that is running now, if any (not an interrupted one)."""
    running = db.session.scalar(
        select(BulkChange)
        .where(BulkChange.campaign_id == campaign.id, BulkChange.state == BulkChangeState.RUNNING)
        .order_by(BulkChange.id.desc())
        .limit(1)
    )
    if running is None or interrupted(running, now or utcnow()):
        return None
    return running


def interrupted(change: BulkChange, now: datetime) -> bool:
    """Tell whether a running change stopped committing batches (its process went away)."""
    return job_interrupted(change, now, INTERRUPTED_AFTER)


def start_bulk_change(
    campaign: Campaign, action: str, choices: Mapping[str, str], view: Mapping[str, Any],
    ids: Sequence[int], *, actor: User | None, batch: int = BATCH,
) -> BulkChange:  # fmt: skip
    """Record a bulk change of these prospects and apply its first batch (flush).

    The caller commits, then runs the rest with `continue_in_background`.
    """
    other = running_bulk_change(campaign)
    if other is not None:
        raise UserError(
            f"another bulk change of this campaign is running ({other.done:,} of "
            f"{other.total:,} prospects done); wait for it to finish"
        )
    if running_import(campaign) is not None:
        raise UserError("an import of this campaign is running; wait for it to finish")
    change = BulkChange(
        campaign_id=campaign.id,
        created_by_id=actor.id if actor else None,
        action=action,
        choices={k: choices[k] for k in CHOICES.get(action, ()) if choices.get(k)},
        view=dict(view),
        total=len(ids),
        progress_at=utcnow(),
    )
    db.session.add(change)
    db.session.flush()
    _apply_batch(change, ids[:batch], actor)
    return change


def change_prospects(
    campaign: Campaign, action: str, choices: Mapping[str, str], view: Mapping[str, Any],
    ids: Sequence[int], *, actor: User | None, batch: int = BATCH,
) -> actions.BulkResult | BulkChange:  # fmt: skip
    """Apply a bulk action at once when the ids fit one batch, else start a bulk change (flush).

    The caller commits, then continues a started change with `continue_in_background`.
    """
    if len(ids) > batch:
        return start_bulk_change(campaign, action, choices, view, ids, actor=actor, batch=batch)
    return apply_bulk_action(campaign, action, choices, ids, actor=actor)


def prospects_of(change: BulkChange) -> list[int]:
    """Return the ids a change's action would take now: what its view matches, or the
    prospects new rules or target pages assess again."""
    if change.action == "apply_rules":
        return campaign_prospect_ids(change.campaign)
    if change.action == "map_targets":
        return unconfirmed_prospect_ids(change.campaign)
    return matching_ids(change.campaign_id, GapFilter.from_args(change.view))


def _apply_batch(change: BulkChange, ids: Sequence[int], actor: User | None) -> None:
    """Apply the change to one batch of its prospects and count them (flush)."""
    result = actions.BulkResult(changed=change.changed, skipped=dict(change.skipped))
    result.add(apply_bulk_action(change.campaign, change.action, change.choices, ids, actor=actor))
    change.changed, change.skipped = result.changed, result.skipped
    change.done += len(ids)
    change.progress_at = utcnow()
    db.session.flush()


def run_bulk_change(change_id: int, ids: Sequence[int], *, batch: int = BATCH) -> BulkChange:
    """Apply a started change to the rest of its prospects, committing each batch (a job)."""
    change = db.session.get(BulkChange, change_id)
    if change is None:
        raise UserError(f"no bulk change #{change_id}")
    actor = db.session.get(User, change.created_by_id) if change.created_by_id else None
    try:
        for chunk in batches(ids, batch):
            _apply_batch(change, chunk, actor)
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if not isinstance(exc, UserError):
            log.exception("bulk change #%s stopped", change_id)
        change.state = BulkChangeState.FAILED
        change.error = exc.message if isinstance(exc, UserError) else "an unexpected error"
    else:
        change.state = BulkChangeState.DONE
    change.finished_at = utcnow()
    db.session.commit()
    return change


def continue_in_background(app: Flask, change: BulkChange, ids: Sequence[int],
                           *, batch: int = BATCH) -> None:  # fmt: skip
    """Run the rest of a started change (the ids after its first batch) in a thread."""
    change_id, rest = change.id, list(ids[batch:])
    in_thread(app, f"bulk-change-{change_id}",
              lambda: run_bulk_change(change_id, rest, batch=batch))  # fmt: skip


def describe(change: BulkChange) -> str:
    """Say what a change does: "Qualifying 300,000 prospects"."""
    doing = DOING.get(change.action, "Changing {n}")
    return doing.format(n=counted(change.total, "prospect"))


def chosen(change: BulkChange) -> str:
    """Say which prospects a change was started on: "the 300,000 prospects its view matched"."""
    n = counted(change.total, "prospect")
    if change.action == "apply_rules":
        return f"the campaign's {n}"
    if change.action == "map_targets":
        return f"the {n} whose target page nobody confirmed"
    return f"the {n} its view matched"


def summary(change: BulkChange) -> str:
    """Say what a change did: "300,000 prospects qualified; left alone: 12 …"."""
    result = actions.BulkResult(changed=change.changed, skipped=dict(change.skipped))
    return result.summary(VERBS.get(change.action, "changed"))
