"""The landing page after sign-in."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> Response:
    return redirect(url_for("campaigns.index"))
