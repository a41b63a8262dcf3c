"""The landing page after sign-in, and the banner that says when no worker runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from crm.extensions import db
from crm.models import WorkerLock, utcnow

bp = Blueprint("home", __name__)

# crm.jobs.SCHEDULER_LOCK and LOCK_LEASE: the web process does not import the job table.
SCHEDULER_LOCK = "scheduler"
LOCK_LEASE = timedelta(seconds=90)


@bp.route("/")
def index() -> Response | str:
    """Show the setup checklist until every step is done; then go to the campaigns."""
    from crm.web.setup_checklist import setup_steps

    steps = setup_steps(current_user)
    if steps is None or all(step.done for step in steps):
        return redirect(url_for("campaigns.index"))
    done = sum(step.done for step in steps)
    return render_template("home.html", steps=steps, done=done)


def worker_absence(now: datetime | None = None) -> dict[str, Any] | None:
    """Return what the no-worker banner says, or None while a worker holds a live lease.

    The worker renews its lease every 30 seconds for 90: an expired or missing
    lease means no worker has been seen for at least a minute.
    """
    lock = db.session.get(WorkerLock, SCHEDULER_LOCK)
    now = now or utcnow()
    if lock is not None and lock.expires_at > now:
        return None
    return {"last_seen": lock.expires_at - LOCK_LEASE if lock is not None else None}


@bp.app_context_processor
def worker_banner() -> dict[str, Any]:
    def absent() -> dict[str, Any] | None:
        if not current_user.is_authenticated:
            return None
        try:
            return worker_absence()
        except SQLAlchemyError:
            # An error page drawn after a failed statement must still render.
            return None

    return {"worker_absence": absent}
