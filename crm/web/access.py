"""The one access mechanism: every route needs a signed-in user unless marked public.

A view declares the least role it needs with `@requires(Role.MANAGER)` (default:
any signed-in user). Routes with a `campaign_id` argument also need the user to be
a member of that campaign, unless the user is a manager or admin. The check runs
in one `before_request` hook, so a new route is protected by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.wrappers import Response

from crm.extensions import db
from crm.models import Campaign, Role, User
from crm.models.campaign import campaign_members

F = TypeVar("F", bound=Callable[..., Any])

# Every campaign page loads its campaign here: one query with its site and its
# competitors (the model's selectin load of them was a second query on every page).
# Members load on first use, on the pages that show them; the membership check is
# one EXISTS. Both statements are built once: SQLAlchemy memoises the cache key of
# a statement it has seen.
_CAMPAIGN_PAGE = (
    select(Campaign)
    .where(Campaign.id == bindparam("campaign_id"))
    .options(lazyload(Campaign.members), joinedload(Campaign.competitors))
)
_IS_MEMBER = select(
    exists().where(
        campaign_members.c.campaign_id == bindparam("campaign_id"),
        campaign_members.c.user_id == bindparam("user_id"),
    )
)


def requires(role: Role) -> Callable[[F], F]:
    """Mark a view as needing at least `role`."""

    def mark(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Mark a view as open to anonymous visitors (sign-in, unsubscribe, static)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def required_role_of(view: Callable[..., Any]) -> Role | None:
    """Return the least role a view needs, or None when it is public."""
    if getattr(view, "is_public", False):
        return None
    return getattr(view, "required_role", Role.SPECIALIST)


def can_access_campaign(user: User, campaign: Campaign) -> bool:
    """Tell whether a user may open a campaign: a manager, or one of its members."""
    return user.has_role(Role.MANAGER) or is_campaign_member(user.id, campaign.id)


def is_campaign_member(user_id: int, campaign_id: int) -> bool:
    """Tell whether a user is a member of a campaign, without loading its members."""
    return bool(db.session.scalar(_IS_MEMBER, {"campaign_id": campaign_id, "user_id": user_id}))


def enforce_access() -> Response | None:
    """Redirect anonymous users to sign in; 403 for a missing role or membership."""
    if request.endpoint is None:
        return None  # 404 handled by Flask
    if request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None:
        return None
    role = required_role_of(view)
    if role is None:
        return None
    if not current_user.is_authenticated:
        if request.headers.get("HX-Request"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    user: User = current_user._get_current_object()
    if not user.has_role(role):
        abort(403)
    campaign_id = (request.view_args or {}).get("campaign_id")
    if campaign_id is not None:
        found = db.session.execute(_CAMPAIGN_PAGE, {"campaign_id": campaign_id})
        campaign = found.unique().scalar_one_or_none()
        if campaign is None:
            abort(404)
        if not can_access_campaign(user, campaign):
            abort(403)
        g.campaign = campaign
    return None


def visible_campaigns_query(user: User) -> Any:
    """Return a select() of the campaigns this user may see."""
    stmt = select(Campaign).where(Campaign.archived.is_(False)).order_by(Campaign.name)
    if not user.has_role(Role.MANAGER):
        stmt = stmt.join(campaign_members, campaign_members.c.campaign_id == Campaign.id).where(
            campaign_members.c.user_id == user.id
        )
    return stmt
