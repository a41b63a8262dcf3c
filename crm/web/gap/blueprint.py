"""The gap area's one blueprint, "gap"; its routes live in the modules beside this one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("gap", __name__)
