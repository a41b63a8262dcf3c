"""Prospects: the list across campaigns, and one prospect's page."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_login import current_user

from crm.core.prospects import prospect_facts
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
        main_panels=[p for p in panels if p.column == "main"],
        side_panels=[p for p in panels if p.column == "side"],
    )
