"""Sequences: the area's pages (the area's issue replaces this empty state)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("sequences", __name__, url_prefix="/sequences")


@bp.route("")
def index() -> str:
    return render_template("empty_area.html", area="sequences")
