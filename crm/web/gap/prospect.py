"""The gap panel of the prospect page: facts, score explained, target and angle, evidence.

Registered in crm.web.panels.PROSPECT_PANELS; its forms post to endpoints of
the "gap" blueprint.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.ids import parse_whole
from crm.extensions import db
from crm.gap import actions
from crm.gap.assess import LINK_TYPES
from crm.gap.qualify import RULE_LABELS, UNWINNABLE_REASONS
from crm.gap.queries import evidence_by_site
from crm.gap.service import latest_snapshot, own_export_missing
from crm.models import Prospect
from crm.web.gap import choices
from crm.web.gap.blueprint import bp
from crm.web.objects import load_object
from crm.web.panels import Panel

PARTS = ("authority", "relevance", "feasibility")


def gap_panel(prospect: Prospect) -> Panel:
    """The prospect's gap facts, score, target page, angle and evidence by competitor."""
    campaign = prospect.campaign
    parts = prospect.score_parts or {}
    return Panel(
        "gap/_panel.html",
        {
            "evidence": evidence_by_site(prospect),
            "parts": [
                (n, parts[n]) for n in ("authority", "relevance", "feasibility") if n in parts
            ],
            "weights": parts.get("weights", {}),
            "why": parts.get("why", {}),
            "link_types": LINK_TYPES,
            "rule_labels": RULE_LABELS,
            "unwinnable_reasons": UNWINNABLE_REASONS,
            "angles": choices.angles(),
            "targets": list(campaign.target_pages),
            "site": campaign.site.domain,
            "own_missing": own_export_missing(latest_snapshot(campaign), campaign),
        },
    )


def _prospect(campaign_id: int, prospect_id: int) -> Prospect:
    return load_object(Prospect, prospect_id, campaign=g.campaign)


def _back(prospect: Prospect) -> Response:
    return redirect(
        url_for("prospects.show", campaign_id=prospect.campaign_id, prospect_id=prospect.id)
        + "#gap"
    )


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/gap", methods=["POST"])
def prospect_update(campaign_id: int, prospect_id: int) -> Response:
    """Confirm or change the target page; set the angle, relevance and link type."""
    prospect = _prospect(campaign_id, prospect_id)
    campaign = g.campaign
    actor = current_user._get_current_object()
    form = request.form
    try:
        target = form.get("target_id", "")
        if target:
            actions.map_target(campaign, [prospect.id], actions.find_target(campaign, target),
                               actor=actor)  # fmt: skip
        elif "target_id" in form:
            prospect.target_page_id = None
            prospect.target_confirmed = True
        if form.get("angle"):
            actions.set_angle(campaign, [prospect.id], form["angle"], actor=actor)
        db.session.refresh(prospect)
        relevance = form.get("relevance", "")
        actions.correct_prospect(
            prospect,
            link_type=form.get("link_type") if "link_type" in form else None,
            relevance=parse_whole(relevance),
            clear_relevance="relevance" in form and not relevance,
            actor=actor,
        )
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(prospect)
    db.session.commit()
    flash("Saved; the score is up to date.", "ok")
    return _back(prospect)


@bp.route(
    "/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/gap/visibility", methods=["POST"]
)
def prospect_visibility(campaign_id: int, prospect_id: int) -> Response:
    """Hide a prospect (excluded with a reason, or unwinnable) or restore it."""
    prospect = _prospect(campaign_id, prospect_id)
    campaign = g.campaign
    actor = current_user._get_current_object()
    action = request.form.get("action", "")
    try:
        if action == "restore":
            result = actions.restore(campaign, [prospect.id], actor=actor)
        elif action == "unwinnable":
            why = request.form.get("unwinnable_reason", "")
            note = request.form.get("reason", "")
            result = actions.mark_unwinnable(campaign, [prospect.id], why, note, actor=actor)
        elif action == "exclude":
            result = actions.exclude(campaign, [prospect.id], request.form.get("reason", ""),
                                     actor=actor)  # fmt: skip
        else:
            raise UserError("choose restore, exclude or unwinnable")
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(prospect)
    db.session.commit()
    flash(result.summary({"restore": "restored"}.get(action, "hidden")), "ok")
    return _back(prospect)
