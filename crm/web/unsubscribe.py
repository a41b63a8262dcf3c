"""The one-click unsubscribe endpoint (RFC 8058) behind every message's List-Unsubscribe.

``GET /u/<token>`` shows a confirmation page and changes nothing (mail
scanners follow links). ``POST /u/<token>`` — the recipient's button, or the
mail provider's one-click request with no cookies and no CSRF token —
suppresses the address at once and stops its live sequences.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from werkzeug.wrappers import Response

from crm.core.suppression import suppress
from crm.core.timeline import add_touchpoint
from crm.extensions import csrf, db
from crm.mail.unsubscribe import (
    InvalidUnsubscribeToken,
    UnsubscribeRequest,
    read_unsubscribe_token,
)
from crm.models import StopReason, Touch, TouchpointKind
from crm.web.access import public

bp = Blueprint("unsubscribe", __name__)


def _read(token: str) -> UnsubscribeRequest | None:
    try:
        return read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    except InvalidUnsubscribeToken:
        return None


def _page(state: str, email: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("unsubscribe/page.html", state=state, email=email), status


@bp.get("/u/<token>")
@public
def confirm(token: str) -> tuple[str, int]:
    asked = _read(token)
    if asked is None:
        return _page("invalid", status=400)
    return _page("confirm", asked.email)


@bp.post("/u/<token>")
@csrf.exempt
@public
def apply(token: str) -> tuple[str, int] | Response:
    from crm.outreach.lifecycle import stop_enrollments_of_address

    asked = _read(token)
    if asked is None:
        return _page("invalid", status=400)
    suppress(asked.email, "unsubscribed with the link in our email")
    stopped = stop_enrollments_of_address(asked.email, StopReason.UNSUBSCRIBED)
    touch_id = asked.touch_id
    touch = db.session.get(Touch, int(str(touch_id))) if str(touch_id).isdigit() else None
    if touch is not None:
        add_touchpoint(
            touch.enrollment.prospect,
            TouchpointKind.NOTE,
            f"{asked.email} unsubscribed with the link in touch {touch.step}"
            + (f"; {stopped} sequence(s) stopped" if stopped else ""),
            touch_id=touch.id,
        )
    db.session.commit()
    return _page("done", asked.email)
