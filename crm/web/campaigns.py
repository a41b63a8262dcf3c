"""Campaigns: list, create, overview, settings and target pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.core.audit import record_audit
from crm.core.campaigns import (
    add_target_page,
    create_campaign,
    remove_target_page,
    set_competitors,
)
from crm.core.errors import UserError
from crm.extensions import db
from crm.gap.actions import BulkResult
from crm.gap.bulk_changes import (
    unconfirmed_prospect_ids,
)
from crm.models import BulkChange, Campaign, Prospect, Role, TargetCategory, TargetPage, User
from crm.web.access import requires, visible_campaigns_query
from crm.web.forms import attach_user_error, choices, lines
from crm.web.gap.changes import answer_bulk, change_as_user
from crm.web.objects import load_object

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


def _user_choices() -> list[SelectChoice]:
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.email))
    return choices([(str(u.id), f"{u.display_name} ({u.role.value})") for u in users])


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    site = StringField(
        "Site", validators=[DataRequired()], description="The domain we build links for."
    )
    competitors = TextAreaField(
        "Competitors",
        validators=[DataRequired()],
        description="Search competitors' domains, one per line (3–5 is typical).",
        render_kw={"rows": 5},
    )
    members = SelectMultipleField(
        "Members", description="Specialists who work this campaign.", validators=[Optional()]
    )


class CampaignSettingsForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    competitors = TextAreaField("Competitors", validators=[DataRequired()], render_kw={"rows": 5})
    members = SelectMultipleField("Members", validators=[Optional()])
    rerun_cadence_days = IntegerField(
        "Re-import every (days)",
        validators=[NumberRange(min=7, max=730)],
        description="The campaign reminds you when its newest import is older than this.",
    )
    stop_all_on_reply = BooleanField(
        "A reply stops every active sequence of that prospect",
    )


class TargetPageForm(FlaskForm):
    url = StringField("URL", validators=[DataRequired(), Length(max=2048)])
    title = StringField("Title", validators=[Optional(), Length(max=300)])
    category = SelectField(
        "Category", choices=choices([c.value for c in TargetCategory]), default="other"
    )
    keywords = StringField(
        "Topic keywords", validators=[Optional()], description="Comma separated."
    )
    pitch = StringField(
        "What it adds",
        validators=[Optional(), Length(max=300)],
        description="One sentence the templates use as {{ target.pitch }}.",
    )


@bp.route("")
def index() -> str:
    campaigns = db.session.scalars(visible_campaigns_query(current_user)).all()
    counts = dict(
        db.session.execute(
            select(Prospect.campaign_id, func.count()).group_by(Prospect.campaign_id)
        ).all()
    )
    return render_template("campaigns/index.html", campaigns=campaigns, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.MANAGER)
def new() -> Response | str:
    form = CampaignForm()
    form.members.choices = _user_choices()
    if form.validate_on_submit():
        members = [db.session.get(User, int(i)) for i in form.members.data or []]
        try:
            campaign = create_campaign(
                form.name.data or "",
                form.site.data or "",
                lines(form.competitors.data),
                members=[m for m in members if m is not None],
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            if not attach_user_error(form, exc, "name"):
                flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Campaign {campaign.name} created. Next: add target pages, then import.", "ok")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/new.html", form=form)


@bp.route("/<int:campaign_id>")
def show(campaign_id: int) -> str:
    campaign: Campaign = g.campaign
    prospect_count = db.session.scalar(
        select(func.count()).select_from(Prospect).where(Prospect.campaign_id == campaign.id)
    )
    by_status = dict(
        db.session.execute(
            select(Prospect.status, func.count())
            .where(Prospect.campaign_id == campaign.id)
            .group_by(Prospect.status)
        ).all()
    )
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        prospect_count=prospect_count,
        by_status=by_status,
        target_form=TargetPageForm(),
    )


@bp.route("/<int:campaign_id>/settings", methods=["GET", "POST"])
@requires(Role.MANAGER)
def settings(campaign_id: int) -> Response | str:
    campaign: Campaign = g.campaign
    form = CampaignSettingsForm(obj=campaign)
    form.members.choices = _user_choices()
    if not form.is_submitted():
        form.competitors.data = "\n".join(campaign.competitor_domains)
        form.members.data = [str(m.id) for m in campaign.members]
    if form.validate_on_submit():
        try:
            name = (form.name.data or "").strip()
            clash = db.session.scalar(
                select(Campaign.id).where(Campaign.name == name, Campaign.id != campaign.id)
            )
            if clash is not None:
                raise UserError(f"a campaign named {name!r} already exists", field="name")
            set_competitors(campaign, lines(form.competitors.data))
            campaign.name = name
            members = [db.session.get(User, int(i)) for i in form.members.data or []]
            campaign.members = [m for m in members if m is not None]
            campaign.rerun_cadence_days = form.rerun_cadence_days.data or 90
            campaign.stop_all_on_reply = bool(form.stop_all_on_reply.data)
            record_audit(
                "campaign.update", user=current_user, object_type="campaign", object_id=campaign.id
            )
        except UserError as exc:
            db.session.rollback()
            if not attach_user_error(form, exc, "name"):
                flash(exc.message, "error")
        else:
            db.session.commit()
            flash("Campaign settings saved.", "ok")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/settings.html", campaign=campaign, form=form)


@bp.route("/<int:campaign_id>/targets", methods=["POST"])
@requires(Role.MANAGER)
def add_target(campaign_id: int) -> Response | tuple[str, int]:
    campaign: Campaign = g.campaign
    form = TargetPageForm()
    if form.validate_on_submit():
        try:
            add_target_page(
                campaign,
                form.url.data or "",
                title=form.title.data or "",
                category=form.category.data or "other",
                keywords=lines(form.keywords.data),
                pitch=form.pitch.data or "",
            )
            mapping = _map_again(campaign)
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "url")
        else:
            return _mapped_again(campaign, mapping, "Target page added")
    prospect_count = db.session.scalar(
        select(func.count()).select_from(Prospect).where(Prospect.campaign_id == campaign.id)
    )
    page = render_template(
        "campaigns/show.html",
        campaign=campaign,
        prospect_count=prospect_count,
        by_status={},
        target_form=form,
    )
    return page, 422


@bp.route("/<int:campaign_id>/targets/<int:target_id>/delete", methods=["POST"])
@requires(Role.MANAGER)
def delete_target(campaign_id: int, target_id: int) -> Response:
    page = load_object(TargetPage, target_id, campaign=g.campaign)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    remove_target_page(page)
    try:
        mapping = _map_again(g.campaign)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id) + "#targets")
    return _mapped_again(g.campaign, mapping, "Target page removed")


def _map_again(campaign: Campaign) -> tuple[BulkResult | BulkChange, list[int]]:
    """Map the prospects without a confirmed target page again, or start doing so (flush)."""
    ids = unconfirmed_prospect_ids(campaign)
    return change_as_user(campaign, "map_targets", ids), ids


def _mapped_again(
    campaign: Campaign, mapping: tuple[BulkResult | BulkChange, list[int]], saved: str
) -> Response:
    """Commit a change of target pages and say what became of the prospects' mapping."""
    outcome, ids = mapping
    db.session.commit()
    back = url_for("campaigns.show", campaign_id=campaign.id) + "#targets"
    return answer_bulk(outcome, ids, "map_targets", back=back, saved=saved)
