"""Sessions that can be revoked, HSTS, trusted proxies, and small bodies for strangers."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import bindparam, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from crm.extensions import db
from crm.models import User

# Every signed-in request runs this: a statement built once keeps its memoised
# cache key, where session.get builds (and keys) a new one each time.
_BY_ID = select(User).where(User.id == bindparam("id"))

# The sign-in form and a one-click unsubscribe are a few hundred bytes.
ANONYMOUS_MAX_CONTENT_LENGTH = 64 * 1024

HSTS = "max-age=31536000"


def load_user(session_id: str) -> User | None:
    """Return the user a session or remember token names, if it is still valid.

    The id is "<user id>:<session version>" (`User.get_id`); a password change,
    a deactivation or a sign-out raises the version, so older cookies name no one.
    """
    raw_id, _, version = session_id.partition(":")
    if not (raw_id.isascii() and raw_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    user: User | None = db.session.scalar(_BY_ID, {"id": int(raw_id)})
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def limit_anonymous_body() -> None:
    """Cap what an anonymous request may send before anything parses its body."""
    # Pages and static files carry no body: they need no user lookup here.
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not current_user.is_authenticated:
        request.max_content_length = ANONYMOUS_MAX_CONTENT_LENGTH


def add_hsts(response: Response) -> Response:
    """Tell browsers to use HTTPS only, when this answer itself went over HTTPS."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trust_proxies(app: Flask) -> None:
    """Read client address and scheme from `TRUSTED_PROXIES` reverse proxies (0: none)."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
