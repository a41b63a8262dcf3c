"""Prospects: the list across campaigns, one prospect's page, and its deal stage."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.prospects import listed_page, prospect_facts, prospect_page, set_prospect_page
from crm.core.stage_moves import last_stage_note, move_prospects
from crm.core.stages import HAND_SET, NEEDS_REASON, SYSTEM_SET, hand_move_refusal
from crm.extensions import db
from crm.models import Prospect
from crm.web.access import visible_campaigns_query
from crm.web.objects import load_object
from crm.web.panels import prospect_panels

bp = Blueprint("prospects", __name__)


@bp.route("/prospects")
def index() -> str:
    campaigns = db.session.scalars(visible_campaigns_query(current_user)).all()
    return render_template("prospects/index.html", campaigns=campaigns)


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>")
def show(campaign_id: int, prospect_id: int) -> str:
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    panels = prospect_panels(prospect)
    return render_template(
        "prospects/show.html",
        campaign=g.campaign,
        prospect=prospect,
        facts=prospect_facts(prospect),
        stage_note=last_stage_note(prospect),
        page_url=prospect_page(prospect),
        listed_url=listed_page(prospect),
        stage_choices=[s for s in HAND_SET if hand_move_refusal(prospect.status, s) is None],
        needs_reason=[s.value for s in NEEDS_REASON],
        system_set=SYSTEM_SET,
        main_panels=[p for p in panels if p.column == "main"],
        side_panels=[p for p in panels if p.column == "side"],
    )


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/stage", methods=["POST"])
def move_stage(campaign_id: int, prospect_id: int) -> Response:
    """Move the prospect to a deal stage by hand, with a note in its timeline."""
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    back = url_for("prospects.show", campaign_id=campaign_id, prospect_id=prospect.id)
    try:
        result = move_prospects(
            g.campaign,
            [prospect.id],
            request.form.get("stage", ""),
            note=request.form.get("note", ""),
            actor=current_user._get_current_object(),
        )
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if result.changed:
        flash(f"Moved to {prospect.status.label}.", "ok")
    else:
        flash("Not moved: " + ", ".join(result.skipped) + ".", "error")
    return redirect(back)


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/page", methods=["POST"])
def set_page(campaign_id: int, prospect_id: int) -> Response:
    """Give the prospect its page (the URL templates name as prospect.evidence_url)."""
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    back = url_for("prospects.show", campaign_id=campaign_id, prospect_id=prospect.id)
    try:
        url = set_prospect_page(
            prospect, request.form.get("page_url", ""), actor=current_user._get_current_object()
        )
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back + "#page")
    db.session.commit()
    flash(f"Page set to {url}.", "ok")
    return redirect(back)


from crm.web import personalise as _personalise  # noqa: E402,F401  (its routes are on bp)
