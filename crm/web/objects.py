"""The one way a route loads an object named by an id from outside.

Every id that arrives in a path, a query string, a form field or a JSON body
(prospect, contact, mailbox, enrollment, touch, inbound message, won link,
import, target page) is loaded here, never with ``db.session.get``:

    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    mailbox = load_optional(Mailbox, request.form.get("mailbox_id"), campaign=campaign)
    chosen = load_objects(Prospect, request.form.getlist("prospect_id"), campaign=campaign)
    stmt = visible(Prospect, select(Prospect).where(...))      # lists

Who sees what: managers and admins see every object. A specialist sees the
objects of the campaigns they are a member of; a mailbox through the
campaign–mailbox links (a mailbox linked to no campaign is the shared pool
that campaigns without mailboxes send from, so everyone may use it); an
inbound message as the inbox shows it (`crm.replies.inbox.visible_to`). With
``campaign=`` the object must also belong to that campaign (for a mailbox:
be one of its mailboxes, or any usable one when it has none).

An id the user may not see answers 404, exactly like an id that does not
exist, so guessing ids tells nothing. A new model is added to `_CAMPAIGN_OF`
(or given its own rule in `_restrict`); loading an unregistered model is a
programming error, not a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from crm.core.ids import parse_id
from crm.extensions import db
from crm.models import (
    BulkChange,
    Campaign,
    Contact,
    Enrollment,
    GapImport,
    InboundMessage,
    LinkCheck,
    Mailbox,
    Notification,
    Prospect,
    RankImport,
    ReclamationTask,
    Role,
    TargetPage,
    Touch,
    User,
    WonLink,
)
from crm.models.campaign import campaign_members
from crm.models.outreach import campaign_mailboxes
from crm.outreach.mailboxes import usable_by_member

T = TypeVar("T")

# How to reach the campaign an object belongs to: the joins a select of the model
# needs, and the column that holds the campaign's id.
_CAMPAIGN_OF: dict[type[Any], Callable[[Select[Any]], tuple[Select[Any], Any]]] = {
    Prospect: lambda s: (s, Prospect.campaign_id),
    Contact: lambda s: (
        s.join(Prospect, Prospect.id == Contact.prospect_id),
        Prospect.campaign_id,
    ),
    Enrollment: lambda s: (
        s.join(Prospect, Prospect.id == Enrollment.prospect_id),
        Prospect.campaign_id,
    ),
    Touch: lambda s: (
        s.join(Enrollment, Enrollment.id == Touch.enrollment_id).join(
            Prospect, Prospect.id == Enrollment.prospect_id
        ),
        Prospect.campaign_id,
    ),
    WonLink: lambda s: (s, WonLink.campaign_id),
    LinkCheck: lambda s: (
        s.join(WonLink, WonLink.id == LinkCheck.won_link_id),
        WonLink.campaign_id,
    ),
    ReclamationTask: lambda s: (s, ReclamationTask.campaign_id),
    GapImport: lambda s: (s, GapImport.campaign_id),
    BulkChange: lambda s: (s, BulkChange.campaign_id),
    TargetPage: lambda s: (s, TargetPage.campaign_id),
    Campaign: lambda s: (s, Campaign.id),
    RankImport: lambda s: (s, RankImport.campaign_id),
}


def _user(user: User | None) -> User:
    if user is not None:
        return user
    me: User = current_user._get_current_object()
    return me


def _sees_everything(user: User) -> bool:
    return user.has_role(Role.MANAGER)


def member_campaign_ids(user: User) -> Select[Any]:
    """Select the ids of the campaigns `user` is a member of."""
    return select(campaign_members.c.campaign_id).where(campaign_members.c.user_id == user.id)


def _mailbox_rule(user: User, campaign: Campaign | None) -> ColumnElement[bool] | None:
    rules = []
    if not _sees_everything(user):
        rules.append(usable_by_member(user.id))
    if campaign is not None:
        # A campaign sends from its own mailboxes; one without any sends from the pool.
        has_own = exists().where(campaign_mailboxes.c.campaign_id == campaign.id)
        own = select(campaign_mailboxes.c.mailbox_id).where(
            campaign_mailboxes.c.campaign_id == campaign.id
        )
        rules.append(or_(Mailbox.id.in_(own), ~has_own))
    return and_(*rules) if rules else None


def _restrict(model: type[Any], stmt: Select[Any], user: User, campaign: Campaign | None) -> Any:
    """Add to `stmt` (a select over `model`) the conditions for what `user` may see."""
    if model is Mailbox:
        rule = _mailbox_rule(user, campaign)
        return stmt if rule is None else stmt.where(rule)
    if model is InboundMessage:
        from crm.replies.inbox import visible_to

        stmt = visible_to(user, stmt)
        if campaign is not None:
            stmt = stmt.where(
                InboundMessage.prospect_id.in_(
                    select(Prospect.id).where(Prospect.campaign_id == campaign.id)
                )
            )
        return stmt
    if model is Notification:
        # A notification is its owner's, whatever their role.
        return stmt.where(Notification.user_id == user.id)
    route = _CAMPAIGN_OF.get(model)
    if route is None:
        raise TypeError(f"{model.__name__} has no access rule in crm/web/objects.py")
    stmt, campaign_id = route(stmt)
    if campaign is not None:
        stmt = stmt.where(campaign_id == campaign.id)
    if not _sees_everything(user):
        stmt = stmt.where(campaign_id.in_(member_campaign_ids(user)))
    return stmt


def visible(
    model: type[Any],
    stmt: Select[Any],
    *,
    user: User | None = None,
    campaign: Campaign | None = None,
) -> Select[Any]:
    """Restrict a select over `model` to the objects the user may see (for lists and choices)."""
    restricted: Select[Any] = _restrict(model, stmt, _user(user), campaign)
    return restricted


def find_object(
    model: type[T], raw_id: Any, *, user: User | None = None, campaign: Campaign | None = None
) -> T | None:
    """Return the object if it exists and the user may see it, else None."""
    object_id = parse_id(raw_id)
    if object_id is None:
        return None
    stmt = _restrict(model, select(model).where(model.id == object_id), _user(user), campaign)  # type: ignore[attr-defined]
    found: T | None = db.session.scalars(stmt).first()
    return found


def load_object(
    model: type[T], raw_id: Any, *, user: User | None = None, campaign: Campaign | None = None
) -> T:
    """Return the object the id names, or answer 404 when it does not exist for this user."""
    found = find_object(model, raw_id, user=user, campaign=campaign)
    if found is None:
        abort(404)
    return found


def load_optional(
    model: type[T], raw_id: Any, *, user: User | None = None, campaign: Campaign | None = None
) -> T | None:
    """Like load_object for an optional field: None when it is empty, 404 when it is wrong."""
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        return None
    return load_object(model, raw_id, user=user, campaign=campaign)


def load_objects(
    model: type[T],
    raw_ids: Iterable[Any],
    *,
    user: User | None = None,
    campaign: Campaign | None = None,
) -> list[T]:
    """Return every object the ids name, in their order; 404 if any one is not the user's."""
    ids: list[int] = []
    for raw in raw_ids:
        object_id = parse_id(raw)
        if object_id is None:
            abort(404)
        if object_id not in ids:
            ids.append(object_id)
    if not ids:
        return []
    key = model.id  # type: ignore[attr-defined]
    stmt = _restrict(model, select(model).where(key.in_(ids)), _user(user), campaign)
    found = {obj.id: obj for obj in db.session.scalars(stmt).unique()}
    if len(found) != len(ids):
        abort(404)
    return [found[i] for i in ids]
