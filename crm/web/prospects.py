"""Prospects: the list across campaigns, one prospect's page, and its deal stage."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length

from crm.core.errors import UserError
from crm.core.prospects import listed_page, prospect_facts, prospect_page, set_prospect_page
from crm.core.stage_moves import last_stage_note, move_prospects
from crm.core.stages import HAND_SET, NEEDS_REASON, SYSTEM_SET, hand_move_refusal
from crm.extensions import db
from crm.models import Prospect
from crm.web.access import visible_campaigns_query
from crm.web.forms import attach_user_error
from crm.web.objects import load_object
from crm.web.panels import prospect_panels

bp = Blueprint("prospects", __name__)


@bp.route("/prospects")
def index() -> str:
    campaigns = db.session.scalars(visible_campaigns_query(current_user)).all()
    return render_template("prospects/index.html", campaigns=campaigns)


class StageForm(FlaskForm):
    stage = StringField("Move to")
    note = StringField("Note", validators=[Length(max=500)])


class PageForm(FlaskForm):
    page_url = StringField("Page URL", validators=[Length(max=2000)])


def _page(
    prospect: Prospect,
    stage_form: StageForm | None = None,
    page_form: PageForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    panels = prospect_panels(prospect)
    html = render_template(
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
        stage_form=stage_form or StageForm(formdata=None),
        page_form=page_form or PageForm(formdata=None),
        main_panels=[p for p in panels if p.column == "main"],
        side_panels=[p for p in panels if p.column == "side"],
    )
    return html, status


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>")
def show(campaign_id: int, prospect_id: int) -> tuple[str, int]:
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    return _page(prospect)


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/stage", methods=["POST"])
def move_stage(campaign_id: int, prospect_id: int) -> Response | tuple[str, int]:
    """Move the prospect to a deal stage by hand, with a note in its timeline."""
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    form = StageForm()
    if not form.validate_on_submit():
        return _page(prospect, stage_form=form, status=422)
    try:
        result = move_prospects(
            g.campaign,
            [prospect.id],
            form.stage.data or "",
            note=form.note.data or "",
            actor=current_user._get_current_object(),
        )
    except UserError as exc:
        db.session.rollback()
        # The service names the stage "status" (its CLI option's name).
        field = "stage" if exc.field == "status" else exc.field
        attach_user_error(form, UserError(exc.message, field=field), "stage")
        return _page(prospect, stage_form=form, status=422)
    if not result.changed:
        db.session.rollback()
        form.stage.errors = ["Not moved: " + ", ".join(result.skipped) + "."]
        return _page(prospect, stage_form=form, status=422)
    db.session.commit()
    flash(f"Moved to {prospect.status.label}.", "ok")
    return redirect(url_for("prospects.show", campaign_id=campaign_id, prospect_id=prospect.id))


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/page", methods=["POST"])
def set_page(campaign_id: int, prospect_id: int) -> Response | tuple[str, int]:
    """Give the prospect its page (the URL templates name as prospect.evidence_url)."""
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    form = PageForm()
    if not form.validate_on_submit():
        return _page(prospect, page_form=form, status=422)
    try:
        url = set_prospect_page(
            prospect, form.page_url.data or "", actor=current_user._get_current_object()
        )
    except UserError as exc:
        db.session.rollback()
        attach_user_error(form, exc, "page_url")
        return _page(prospect, page_form=form, status=422)
    db.session.commit()
    flash(f"Page set to {url}.", "ok")
    return redirect(url_for("prospects.show", campaign_id=campaign_id, prospect_id=prospect.id))


from crm.web import personalise as _personalise  # noqa: E402,F401  (its routes are on bp)
