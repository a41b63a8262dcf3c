"""The prospect timeline and its status pipeline (services: flush, never commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.extensions import db
from crm.models import Prospect, ProspectStatus, Touchpoint, TouchpointKind, User, utcnow


def add_touchpoint(
    prospect: Prospect,
    kind: TouchpointKind,
    summary: str,
    *,
    actor: User | None = None,
    at: datetime | None = None,
    **data: Any,
) -> Touchpoint:
    """Append one entry to a prospect's timeline."""
    entry = Touchpoint(
        prospect=prospect,
        kind=kind,
        summary=summary,
        actor_id=actor.id if actor is not None else None,
        at=at or utcnow(),
        data=data,
    )
    db.session.add(entry)
    return entry


def change_status(
    prospect: Prospect,
    status: ProspectStatus,
    *,
    actor: User | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> bool:
    """Move a prospect along the pipeline and log it; return False when nothing changed."""
    if prospect.status == status:
        return False
    before = prospect.status
    prospect.status = status
    prospect.status_changed_at = at or utcnow()
    summary = f"{before.label} → {status.label}" + (f": {reason}" if reason else "")
    add_touchpoint(
        prospect,
        TouchpointKind.STATUS_CHANGE,
        summary,
        actor=actor,
        at=at,
        before=before.value,
        after=status.value,
    )
    return True
