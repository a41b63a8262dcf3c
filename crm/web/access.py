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
from werkzeug.wrappers import Response

from crm.extensions import db
from crm.models import Campaign, Role, User

F = TypeVar("F", bound=Callable[..., Any])


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
    return user.has_role(Role.MANAGER) or campaign.is_member(user)


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
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            abort(404)
        if not can_access_campaign(user, campaign):
            abort(403)
        g.campaign = campaign
    return None


def visible_campaigns_query(user: User) -> Any:
    """Return a select() of the campaigns this user may see."""
    from sqlalchemy import select

    from crm.models.campaign import campaign_members

    stmt = select(Campaign).where(Campaign.archived.is_(False)).order_by(Campaign.name)
    if not user.has_role(Role.MANAGER):
        stmt = stmt.join(campaign_members, campaign_members.c.campaign_id == Campaign.id).where(
            campaign_members.c.user_id == user.id
        )
    return stmt
