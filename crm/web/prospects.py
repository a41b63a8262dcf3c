"""Prospects: the area's pages (the area's issue replaces this empty state)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("prospects", __name__, url_prefix="/prospects")


@bp.route("")
def index() -> str:
    return render_template("empty_area.html", area="prospects")
