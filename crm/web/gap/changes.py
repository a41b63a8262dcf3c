"""A bulk change's page: what it does to how many prospects, its progress bar, then its result.

Endpoints of the "gap" blueprint; the gap table's bulk form starts the change
(crm.web.gap.table).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request, url_for
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.stage_moves import stage_of
from crm.extensions import db
from crm.gap.bulk_changes import batch_size, chosen, describe, interrupted, summary
from crm.gap.qualify import UNWINNABLE_REASONS
from crm.models import BulkChange, BulkChangeState, Campaign, User, utcnow
from crm.outreach.sequences import find_angle
from crm.web.gap.blueprint import bp
from crm.web.objects import load_object


def choice_lines(change: BulkChange, campaign: Campaign) -> list[tuple[str, str]]:
    """Return a change's choices as a person reads them: ("angle", "Resource replacement")."""
    lines: list[tuple[str, str]] = []
    for key, value in change.choices.items():
        try:
            if key == "stage":
                lines.append(("stage", stage_of(value).label))
            elif key == "unwinnable_reason":
                lines.append(("unwinnable because", UNWINNABLE_REASONS.get(value, value)))
            elif key == "assignee":
                user = db.session.get(User, int(value)) if value.isdigit() else None
                lines.append(("assigned to", user.display_name if user else value))
            elif key == "target_id":
                pages = {str(p.id): p.url for p in campaign.target_pages}
                lines.append(("target page", pages.get(value, value)))
            elif key == "angle":
                lines.append(("angle", find_angle(value).label))
            else:
                lines.append((key, value))
        except UserError:  # a choice no longer known (a deleted angle): show it as sent
            lines.append((key.replace("_", " "), value))
    if change.action == "assign" and "assignee" not in change.choices:
        lines.append(("assigned to", "nobody (unassigned)"))
    return lines


def _page_args(change: BulkChange) -> dict[str, Any]:
    campaign: Campaign = g.campaign
    return {
        "campaign": campaign,
        "change": change,
        "doing": describe(change),
        "chosen": chosen(change),
        "summary": summary(change),
        "interrupted": interrupted(change, utcnow()),
    }


@bp.route("/campaigns/<int:campaign_id>/gap/changes/<int:change_id>")
def change_show(campaign_id: int, change_id: int) -> str:
    change = load_object(BulkChange, change_id, campaign=g.campaign)
    return render_template(
        "gap/change_show.html",
        choices=choice_lines(change, g.campaign),
        batch_size=batch_size(current_app.config),
        **_page_args(change),
    )


@bp.route("/campaigns/<int:campaign_id>/gap/changes/<int:change_id>/progress")
def change_progress(campaign_id: int, change_id: int) -> Response | str:
    """The progress bar fragment; once the change ends, htmx is sent to its page."""
    campaign: Campaign = g.campaign
    change = load_object(BulkChange, change_id, campaign=campaign)
    if change.state != BulkChangeState.RUNNING and request.headers.get("HX-Request"):
        response = current_app.make_response("")
        response.headers["HX-Redirect"] = url_for(
            "gap.change_show", campaign_id=campaign.id, change_id=change.id
        )
        return response
    return render_template("gap/_change_progress.html", **_page_args(change))
