"""Append entries to the audit log."""

from __future__ import annotations

from typing import Any

from crm.extensions import db
from crm.models import AuditLog, User


def record_audit(
    action: str,
    *,
    user: User | None = None,
    object_type: str = "",
    object_id: object = "",
    ip: str = "",
    **detail: Any,
) -> AuditLog:
    """Add one audit entry to the session (the caller commits)."""
    entry = AuditLog(
        action=action,
        user_id=user.id if user is not None else None,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
        ip=ip,
    )
    db.session.add(entry)
    return entry
