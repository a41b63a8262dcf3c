"""A bulk change's page: what it does to how many prospects, its progress bar, then its result.

Endpoints of the "gap" blueprint; the gap table's bulk form starts the change
(crm.web.gap.table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.ids import parse_id
from crm.core.stage_moves import stage_of
from crm.extensions import db
from crm.gap.actions import BulkResult
from crm.gap.bulk_changes import (
    MANAGERS_ONLY,
    VERBS,
    batch_size,
    change_prospects,
    chosen,
    continue_in_background,
    describe,
    interrupted,
    prospects_of,
    summary,
)
from crm.gap.qualify import UNWINNABLE_REASONS
from crm.models import BulkChange, BulkChangeState, Campaign, Role, User, utcnow
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
                user_id = parse_id(value)
                user = db.session.get(User, user_id) if user_id is not None else None
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


def change_as_user(
    campaign: Campaign, action: str, ids: Sequence[int], *,
    choices: Mapping[str, str] | None = None, view: Mapping[str, Any] | None = None,
) -> BulkResult | BulkChange:  # fmt: skip
    """Change prospects as the signed-in user: at once, or by starting a bulk change (flush).

    The request commits, then answers with `answer_bulk`.
    """
    actor = current_user._get_current_object()
    return change_prospects(campaign, action, choices or {}, view or {}, ids, actor=actor,
                            batch=batch_size(current_app.config))  # fmt: skip


def answer_bulk(
    outcome: BulkResult | BulkChange, ids: Sequence[int], action: str, *, back: str,
    saved: str = "",
) -> Response:  # fmt: skip
    """After the commit: follow a started bulk change on its page, or say what changed.

    `saved` names what the request saved first ("Gap settings saved").
    """
    if isinstance(outcome, BulkChange):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        continue_in_background(app, outcome, ids, batch=batch_size(current_app.config))
        if saved:
            flash(f"{saved}.", "ok")
        return redirect(
            url_for("gap.change_show", campaign_id=outcome.campaign_id, change_id=outcome.id)
        )
    done = outcome.summary(VERBS.get(action, "changed"))
    flash(f"{saved}; {done}" if saved else done, "ok")
    return redirect(back)


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


@bp.route("/campaigns/<int:campaign_id>/gap/changes/<int:change_id>/again", methods=["POST"])
def change_again(campaign_id: int, change_id: int) -> Response:
    """Start a stopped change again on what its view (or its rule) takes now, to finish it.

    Every bulk action gives the same result when applied twice, so the
    prospects the stopped change already changed are simply left as they are.
    """
    campaign: Campaign = g.campaign
    stopped = load_object(BulkChange, change_id, campaign=campaign)
    here = url_for("gap.change_show", campaign_id=campaign.id, change_id=stopped.id)
    actor: User = current_user._get_current_object()
    if stopped.action in MANAGERS_ONLY and not actor.has_role(Role.MANAGER):
        abort(403)
    if not (stopped.state == BulkChangeState.FAILED or interrupted(stopped, utcnow())):
        flash("This change did not stop: there is nothing to finish.", "error")
        return redirect(here)
    ids = prospects_of(stopped)
    try:
        outcome = change_as_user(campaign, stopped.action, ids, choices=stopped.choices,
                                 view=stopped.view)  # fmt: skip
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(here)
    db.session.commit()
    back = url_for("gap.table", campaign_id=campaign.id, **stopped.view)
    return answer_bulk(outcome, ids, stopped.action, back=back)
