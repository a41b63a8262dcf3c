"""The gap's qualification rules and score weights page (managers), applied to every prospect."""

from __future__ import annotations

from flask import flash, g, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, FloatField, IntegerField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from crm.core.errors import UserError
from crm.extensions import db
from crm.gap.bulk_changes import (
    campaign_prospect_ids,
)
from crm.gap.settings import PATTERN_GROUPS, campaign_config, save_config
from crm.models import Campaign, Role
from crm.web.access import requires
from crm.web.forms import attach_user_error, lines
from crm.web.gap.blueprint import bp
from crm.web.gap.changes import answer_bulk, change_as_user


class GapSettingsForm(FlaskForm):
    min_overlap = IntegerField("Minimum overlap", validators=[NumberRange(min=1, max=20)],
                               description="In the gap when linking to at least this many "
                               "competitors.")  # fmt: skip
    min_authority = FloatField("Minimum authority", validators=[Optional(), NumberRange(0, 100)])
    min_traffic = IntegerField("Minimum traffic", validators=[Optional(), NumberRange(min=0)])
    dofollow_only = BooleanField("Dofollow links only")
    exclude_spam = BooleanField("Hide domains flagged as spam")
    exclude_paid_or_ugc_only = BooleanField("Hide domains whose links are all sponsored or UGC")
    directory = BooleanField("Hide directories")
    press_release = BooleanField("Hide press-release sites")
    blogroll = BooleanField("Hide blogrolls")
    exclude_tlds = StringField("Excluded TLDs", description="Comma separated, e.g. xyz, ru.")
    languages = StringField("Languages", description="Keep only these (e.g. en, de); empty: any.")
    blocklist = TextAreaField("Blocklist", description="Domains never to pursue, one per line.",
                              render_kw={"rows": 4})  # fmt: skip
    keywords = StringField("Topic keywords", description="Comma separated; target page topics "
                           "count too.")  # fmt: skip
    weight_authority = FloatField("Authority weight", validators=[NumberRange(0, 100)])
    weight_relevance = FloatField("Relevance weight", validators=[NumberRange(0, 100)])
    weight_feasibility = FloatField("Feasibility weight", validators=[NumberRange(0, 100)])


@bp.route("/campaigns/<int:campaign_id>/gap/settings", methods=["GET", "POST"])
@requires(Role.MANAGER)
def settings(campaign_id: int) -> Response | str:
    campaign: Campaign = g.campaign
    config = campaign_config(campaign)
    form = GapSettingsForm()
    if not form.is_submitted():
        form.min_overlap.data = campaign.min_overlap
        form.min_authority.data = config.min_authority
        form.min_traffic.data = config.min_traffic
        form.dofollow_only.data = config.dofollow_only
        form.exclude_spam.data = config.exclude_spam
        form.exclude_paid_or_ugc_only.data = config.exclude_paid_or_ugc_only
        for group in PATTERN_GROUPS:
            getattr(form, group).data = group in config.exclude_patterns
        form.exclude_tlds.data = ", ".join(config.exclude_tlds)
        form.languages.data = ", ".join(config.languages)
        form.blocklist.data = "\n".join(config.blocklist)
        form.keywords.data = ", ".join(config.keywords)
        form.weight_authority.data = config.weights["authority"]
        form.weight_relevance.data = config.weights["relevance"]
        form.weight_feasibility.data = config.weights["feasibility"]
    if form.validate_on_submit():
        try:
            save_config(campaign, {
                "min_authority": form.min_authority.data,
                "min_traffic": form.min_traffic.data,
                "dofollow_only": form.dofollow_only.data,
                "exclude_spam": form.exclude_spam.data,
                "exclude_paid_or_ugc_only": form.exclude_paid_or_ugc_only.data,
                "exclude_patterns": [p for p in PATTERN_GROUPS if getattr(form, p).data],
                "exclude_tlds": form.exclude_tlds.data,
                "languages": form.languages.data,
                "blocklist": lines(form.blocklist.data),
                "keywords": form.keywords.data,
                "weights": {"authority": form.weight_authority.data,
                            "relevance": form.weight_relevance.data,
                            "feasibility": form.weight_feasibility.data},
            })  # fmt: skip
            campaign.min_overlap = form.min_overlap.data or 1
            ids = campaign_prospect_ids(campaign)
            outcome = change_as_user(campaign, "apply_rules", ids)
        except UserError as exc:
            db.session.rollback()
            if not attach_user_error(form, exc, "min_authority"):
                flash(exc.message, "error")
        else:
            db.session.commit()
            back = url_for("gap.table", campaign_id=campaign.id)
            return answer_bulk(outcome, ids, "apply_rules", back=back, saved="Gap settings saved")
    return render_template("gap/settings.html", campaign=campaign, form=form)
