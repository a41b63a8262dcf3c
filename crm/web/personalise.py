"""Personalising a touch before it goes, and a campaign's first emails waiting for review.

Routes of the "prospects" blueprint (crm.web.prospects imports this module).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Enrollment, Prospect, Touch
from crm.outreach import personalise as service
from crm.web.objects import load_object, load_objects
from crm.web.prospects import bp


def _back(touch: Touch) -> str:
    prospect = touch.enrollment.prospect
    return (
        url_for("prospects.show", campaign_id=prospect.campaign_id, prospect_id=prospect.id)
        + "#sequences"
    )


@bp.route("/touches/<int:touch_id>/edit", methods=["GET", "POST"])
def edit_touch(touch_id: int) -> Response | str:
    """Open a touch rendered for its prospect; change its subject and body for it alone."""
    touch = load_object(Touch, touch_id)
    errors: dict[str, str] = {}
    subject, body = None, None
    if request.method == "POST":
        action = request.form.get("action", "save")
        actor = current_user._get_current_object()
        try:
            if action == "reset":
                service.reset(touch, actor=actor)
                message = "Back to the sequence's text."
            elif action == "approve":
                service.approve([touch], actor=actor)
                message = "Approved: it goes out at its time."
            else:
                subject = request.form.get("subject", "")
                body = request.form.get("body", "")
                service.personalise(touch, subject, body, actor=actor)
                if request.form.get("approve") == "y":
                    service.approve([touch], actor=actor)
                message = "Saved for this prospect only; the sequence is unchanged."
        except UserError as exc:
            db.session.rollback()
            errors[exc.field or "body"] = exc.message
        else:
            db.session.commit()
            flash(message, "ok")
            return redirect(url_for("prospects.edit_touch", touch_id=touch.id))
    draft = service.draft(touch)
    return render_template(
        "prospects/touch_edit.html",
        touch=touch,
        prospect=touch.enrollment.prospect,
        draft=draft,
        subject=draft.subject_template if subject is None else subject,
        body=draft.body_template if body is None else body,
        errors=errors,
        editable=touch.state.value in ("scheduled", "retry_wait"),
        back=_back(touch),
    )


@bp.route("/campaigns/<int:campaign_id>/review", methods=["GET", "POST"])
def review(campaign_id: int) -> Response | str:
    """First emails held for review in this campaign; approve them, or switch the mode."""
    campaign = g.campaign
    if request.method == "POST":
        actor = current_user._get_current_object()
        action = request.form.get("action", "")
        if action in ("on", "off"):
            service.set_needs_review(campaign, action == "on", actor=actor)
            flash("First emails now wait for review." if action == "on"
                  else "New first emails go out without review.", "ok")  # fmt: skip
        else:
            chosen = load_objects(Touch, request.form.getlist("touch_id"), campaign=campaign)
            if not chosen:
                flash("Select the emails to approve.", "error")
            else:
                n = service.approve(chosen, actor=actor)
                flash(f"{n} first email{'' if n == 1 else 's'} approved.", "ok")
        db.session.commit()
        return redirect(url_for("prospects.review", campaign_id=campaign.id))
    held = db.session.scalars(
        select(Touch)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Prospect.campaign_id == campaign.id, Touch.held_for_review.is_(True))
        .where(Touch.state.in_(("scheduled", "retry_wait")))
        .order_by(Touch.due_at, Touch.id)
        .limit(500)
    ).all()
    return render_template(
        "prospects/review.html",
        campaign=campaign,
        held=held,
        on=service.needs_review(campaign),
    )
