"""What the gap pages' pickers offer: the campaign's people, target pages and angles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

from crm.extensions import db
from crm.models import Angle, Campaign, Role, TargetPage, User
from crm.models.campaign import campaign_members


@dataclass(frozen=True)
class Person:
    """Someone prospects can be assigned to, as the pickers show them."""

    id: int
    display_name: str


class Target(NamedTuple):
    """A target page as the table's picker and rows show it."""

    id: int
    title: str
    url: str


# The table's reference lists, one query each per request. Built once: SQLAlchemy
# memoises the cache key of a statement it has seen, and the table is the page
# people reload all day.
_MEMBERS = select(User.id, User.name, User.email).where(
    User.active.is_(True),
    User.role.in_([Role.MANAGER, Role.ADMIN])
    | User.id.in_(
        select(campaign_members.c.user_id).where(
            campaign_members.c.campaign_id == bindparam("campaign_id")
        )
    ),
)
_TARGETS = (
    select(TargetPage.id, TargetPage.title, TargetPage.url)
    .where(TargetPage.campaign_id == bindparam("campaign_id"))
    .order_by(TargetPage.id)
)
_ACTIVE_ANGLES = select(Angle.slug, Angle.label).where(Angle.active).order_by(Angle.label)


def members(campaign: Campaign) -> list[Person]:
    """The campaign's members and every manager and admin, active ones only."""
    rows = db.session.execute(_MEMBERS, {"campaign_id": campaign.id})
    people = [Person(uid, name or email) for uid, name, email in rows]
    return sorted(people, key=lambda p: p.display_name.lower())


def targets(campaign: Campaign) -> list[Target]:
    """The campaign's target pages, oldest first."""
    rows = db.session.execute(_TARGETS, {"campaign_id": campaign.id})
    return [Target(*row) for row in rows]


def angles() -> list[Any]:
    """The active angles, by label."""
    return list(db.session.execute(_ACTIVE_ANGLES))
