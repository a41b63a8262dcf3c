"""The names people read for a breakdown's keys: angle labels, users, mailboxes, pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select

from crm.extensions import db
from crm.gap.linktype import LABELS as LINK_TYPE_LABELS
from crm.models import Angle, Mailbox, TargetPage, User


def labels_for(dims: Sequence[str], keys: Iterable[tuple[Any, ...]]) -> dict[str, dict[Any, str]]:
    """Return {breakdown: {key: label}} for the keys a report found (one query per breakdown)."""
    found: dict[str, set[Any]] = {d: set() for d in dims}
    for key in keys:
        for name, value in zip(dims, key, strict=True):
            if value is not None:
                found[name].add(value)
    labels: dict[str, dict[Any, str]] = {}
    for name, values in found.items():
        labels[name] = _lookup(name, values) if values else {}
    return labels


def _lookup(name: str, values: set[Any]) -> dict[Any, str]:
    if name == "angle":
        rows = db.session.execute(select(Angle.slug, Angle.label).where(Angle.slug.in_(values)))
        return {slug: label for slug, label in rows}
    if name == "link-type":
        return {v: LINK_TYPE_LABELS.get(v, str(v)) for v in values}
    if name == "target":
        rows = db.session.execute(
            select(TargetPage.id, TargetPage.url).where(TargetPage.id.in_(values))
        )
        return {key: label for key, label in rows}
    if name == "specialist":
        rows = db.session.execute(
            select(User.id, func.coalesce(func.nullif(User.name, ""), User.email)).where(
                User.id.in_(values)
            )
        )
        return {key: label for key, label in rows}
    if name == "mailbox":
        rows = db.session.execute(select(Mailbox.id, Mailbox.name).where(Mailbox.id.in_(values)))
        return {key: label for key, label in rows}
    return {}
