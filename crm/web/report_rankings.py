"""Reports › Rankings: import Search Console Pages exports or rank tracker CSVs (dated, as
often as the team likes) and see each target page's position and clicks over time, its
won-link dates, and the change 30/60/90 days after the first link was placed."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete
from werkzeug.wrappers import Response
from wtforms import DateField, FileField, SelectField

from crm.extensions import db
from crm.gap.exports.errors import ExportError
from crm.models import Campaign, RankImport, RankObservation, User
from crm.reports.rankings.movement import HORIZONS, chart_of, imports_of, page_movements
from crm.reports.rankings.service import import_rankings
from crm.web.access import visible_campaigns_query
from crm.web.forms import choices
from crm.web.objects import load_object

MAX_UPLOAD = 32 * 1024 * 1024


class RankingUploadForm(FlaskForm):
    campaign = SelectField("Campaign", coerce=str)
    as_of = DateField(
        "Data as of",
        description="The last day the export covers (Search Console: the end of its date range).",
    )
    file = FileField(
        "Export",
        description="Search Console › Performance › Export (the ZIP or its Pages.csv), "
        "or a rank tracker's CSV with URL and position columns.",
    )


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _campaigns() -> list[Campaign]:
    return list(db.session.scalars(visible_campaigns_query(_me())))


def _chosen(campaigns: list[Campaign], raw: str | None) -> Campaign | None:
    """The campaign named by `raw` (loaded through the access check; 404 for any other id),
    else the first one the user may see."""
    if not raw:
        return campaigns[0] if campaigns else None
    return load_object(Campaign, raw)


def _page(form: RankingUploadForm, campaign: Campaign | None, status: int = 200) -> Any:
    campaigns = _campaigns()
    movements = page_movements(campaign.id) if campaign else []
    shown = None
    wanted = request.args.get("page", "")
    with_data = [m for m in movements if m.points]
    if wanted:
        shown = next((m for m in movements if str(m.page_id) == wanted), None)
    shown = shown or (with_data[0] if with_data else None)
    html = render_template(
        "reports/rankings.html", form=form, campaign=campaign, campaigns=campaigns,
        movements=movements, shown=shown, ranking_chart=chart_of(shown) if shown else None,
        imports=imports_of(campaign.id) if campaign else [], horizons=HORIZONS,
    )  # fmt: skip
    return html, status


def rankings() -> Any:
    campaigns = _campaigns()
    campaign = _chosen(campaigns, request.args.get("campaign"))
    form = RankingUploadForm()
    form.campaign.choices = choices([(str(c.id), c.name) for c in campaigns])
    if campaign is not None:
        form.campaign.data = str(campaign.id)
    return _page(form, campaign)


def upload_rankings() -> Any:
    campaigns = _campaigns()
    form = RankingUploadForm()
    form.campaign.choices = choices([(str(c.id), c.name) for c in campaigns])
    if not form.validate_on_submit():
        return _page(form, _chosen(campaigns, form.campaign.data), 400)
    campaign = _chosen(campaigns, form.campaign.data)
    upload = request.files.get("file")
    if campaign is None or upload is None or not upload.filename:
        form.file.errors = ["Export: choose a file"]
        return _page(form, campaign, 400)
    if form.as_of.data is None:
        form.as_of.errors = ["Data as of: give the day the export describes"]
        return _page(form, campaign, 400)
    with tempfile.NamedTemporaryFile(suffix=".upload") as saved:
        shutil.copyfileobj(upload.stream, saved, length=1 << 20)
        if saved.tell() > MAX_UPLOAD:
            form.file.errors = [f"Export: larger than {MAX_UPLOAD // 2**20} MiB"]
            return _page(form, campaign, 400)
        saved.flush()
        try:
            record = import_rankings(campaign, saved.name, form.as_of.data,
                                     filename=upload.filename, actor=_me())  # fmt: skip
        except ExportError as error:
            db.session.rollback()
            form.file.errors = [str(error)]
            return _page(form, campaign, 400)
    db.session.commit()
    flash(f"Imported {record.rows:,} rows from {record.filename} "
          f"({record.source.label}, as of {record.as_of.isoformat()}).", "ok")  # fmt: skip
    return redirect(url_for("reports.rankings", campaign=campaign.id))


def delete_rankings(import_id: int) -> Response:
    record = load_object(RankImport, import_id)
    campaign_id = record.campaign_id
    # SQLite does not enforce the cascade: remove the rows with their import.
    db.session.execute(delete(RankObservation).where(RankObservation.import_id == record.id))
    db.session.delete(record)
    db.session.commit()
    flash(f"Removed the import of {record.filename}.", "ok")
    return redirect(url_for("reports.rankings", campaign=campaign_id))
