"""Adding prospects by hand: domains or URLs from outside the exports."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField, TextAreaField

from crm.core.errors import UserError
from crm.extensions import db
from crm.gap.manual import add_prospects
from crm.models import Campaign
from crm.web.forms import attach_user_error, lines
from crm.web.gap.blueprint import bp


class AddProspectsForm(FlaskForm):
    domains = TextAreaField(
        "Domains or URLs",
        description="One per line: resource pages, newsletter curators, anything outside the "
        "exports. URLs help guess the link type.",
        render_kw={"rows": 8},
    )
    source = StringField(
        "Source", description="Tag them with where they came from (e.g. 'resource pages list').",
        default="manual",
    )  # fmt: skip


@bp.route("/campaigns/<int:campaign_id>/gap/add", methods=["GET", "POST"])
def add(campaign_id: int) -> BaseResponse | str:
    campaign: Campaign = g.campaign
    form = AddProspectsForm()
    if form.validate_on_submit():
        try:
            result = add_prospects(
                campaign,
                lines(form.domains.data),
                source=form.source.data or "",
                actor=current_user._get_current_object(),
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "domains")
        else:
            db.session.commit()
            flash(f"{len(result.added)} prospects added.", "ok")
            if result.existing:
                flash(f"Already in the campaign: {', '.join(result.existing[:20])}", "info")
            if result.paged:
                flash(f"Given their page: {', '.join(result.paged[:20])}", "info")
            for value, why in result.invalid[:20]:
                flash(f"Skipped {value}: {why}", "warning")
            return redirect(url_for("gap.table", campaign_id=campaign.id, view="all",
                                    sort="score"))  # fmt: skip
    return render_template("gap/add.html", campaign=campaign, form=form)
