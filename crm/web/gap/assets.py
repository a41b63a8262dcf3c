"""Linkable assets: each competitor's pages ranked by the gap domains linking to them."""

from __future__ import annotations

from flask import g, render_template

from crm.gap.service import latest_snapshot
from crm.models import Campaign
from crm.web.gap.blueprint import bp


@bp.route("/campaigns/<int:campaign_id>/gap/assets")
def assets(campaign_id: int) -> str:
    campaign: Campaign = g.campaign
    snapshot = latest_snapshot(campaign)
    return render_template(
        "gap/assets.html", campaign=campaign, snapshot=snapshot,
        assets=(snapshot.assets if snapshot is not None else {}) or {},
    )  # fmt: skip
