"""The gap of a campaign: the table, its bulk actions and CSV export, the chart, linkable assets.

The import pages live in crm.web.gap_import and the prospect panel in
crm.web.gap_prospect; all are endpoints of this one blueprint, "gap".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField, TextAreaField

from crm.core.errors import UserError
from crm.extensions import db
from crm.gap import actions
from crm.gap.assess import LINK_TYPES
from crm.gap.manual import add_prospects
from crm.gap.qualify import RULE_LABELS, UNWINNABLE_REASONS
from crm.gap.queries import (
    PER_PAGE_CHOICES,
    SORTS,
    GapFilter,
    csv_lines,
    iter_facts,
    matching_ids,
    page_of,
)
from crm.gap.service import latest_snapshot, stale_reminder
from crm.models import (
    Angle,
    Campaign,
    GapImport,
    ProspectStatus,
    Role,
    TargetPage,
    User,
    utcnow,
)
from crm.models.campaign import campaign_members
from crm.models.prospect import CATEGORY_BITS
from crm.web.forms import attach_user_error, lines
from crm.web.gap_rows import render_rows
from crm.web.helpers import Options, Page

bp = Blueprint("gap", __name__)

BULK_ACTIONS = {
    "qualify": "Qualify",
    "exclude": "Exclude with a reason",
    "unwinnable": "Mark unwinnable",
    "restore": "Restore (show again)",
    "assign": "Assign to",
    "map_target": "Map to target page",
    "set_angle": "Set angle",
    "enroll": "Enroll in a sequence…",
}
# Enrolling "all matching" passes ids in the URL; the enroll page takes this many.
ENROLL_LIMIT = 2000
# The fixed choices of the table's filter and bulk bars, escaped once.
STATUS_OPTIONS = Options((s.value, s.label) for s in ProspectStatus)
LINK_TYPE_OPTIONS = Options(LINK_TYPES.items())
BULK_ACTION_OPTIONS = Options(BULK_ACTIONS.items())
UNWINNABLE_OPTIONS = Options(UNWINNABLE_REASONS.items())


def own_export_missing(snapshot: GapImport | None, campaign: Campaign) -> bool:
    """Tell whether the snapshot has no export of our own site (the gap then over-counts)."""
    if snapshot is None:
        return False
    have = set(snapshot.sites_covered or []) | set(snapshot.sites_carried or [])
    return campaign.site.domain not in have


def chart_data(snapshot: GapImport | None, competitors: int) -> dict[str, Any] | None:
    """Return the Chart.js data of the overlap chart of a snapshot."""
    if snapshot is None or not snapshot.overlap_chart:
        return None
    theirs = snapshot.overlap_chart.get("not_linking_to_us", {})
    ours = snapshot.overlap_chart.get("linking_to_us", {})
    labels = [str(n) for n in range(competitors + 1)]
    return {
        "labels": labels,
        "datasets": [
            {"label": "not linking to us (the gap)", "data": [theirs.get(n, 0) for n in labels]},
            {"label": "linking to us", "data": [ours.get(n, 0) for n in labels]},
        ],
    }


@bp.app_template_global()
def gap_campaign_summary(campaign: Campaign) -> dict[str, Any]:
    """The gap panel of the campaign page: snapshot, diff, stale reminder, hidden counts."""
    from crm.gap.queries import hidden_reasons

    snapshot = latest_snapshot(campaign)
    return {
        "snapshot": snapshot,
        "stale": stale_reminder(campaign, utcnow()),
        "own_missing": own_export_missing(snapshot, campaign),
        "hidden": hidden_reasons(campaign.id) if snapshot is not None else {},
        "labels": RULE_LABELS,
    }


@dataclass(frozen=True)
class Person:
    """Someone prospects can be assigned to, as the pickers show them."""

    id: int
    display_name: str


class Target(NamedTuple):
    """A target page as the table's picker and rows show it."""

    id: int
    title: str
    url: str


# The table's reference lists, one query each per request. Built once: SQLAlchemy
# memoises the cache key of a statement it has seen, and the table is the page
# people reload all day.
_MEMBERS = select(User.id, User.name, User.email).where(
    User.active.is_(True),
    User.role.in_([Role.MANAGER, Role.ADMIN])
    | User.id.in_(
        select(campaign_members.c.user_id).where(
            campaign_members.c.campaign_id == bindparam("campaign_id")
        )
    ),
)
_TARGETS = (
    select(TargetPage.id, TargetPage.title, TargetPage.url)
    .where(TargetPage.campaign_id == bindparam("campaign_id"))
    .order_by(TargetPage.id)
)
_ACTIVE_ANGLES = select(Angle.slug, Angle.label).where(Angle.active).order_by(Angle.label)


def _members(campaign: Campaign) -> list[Person]:
    """The campaign's members and every manager and admin, active ones only."""
    rows = db.session.execute(_MEMBERS, {"campaign_id": campaign.id})
    people = [Person(uid, name or email) for uid, name, email in rows]
    return sorted(people, key=lambda p: p.display_name.lower())


def _targets(campaign: Campaign) -> list[Target]:
    """The campaign's target pages, oldest first."""
    rows = db.session.execute(_TARGETS, {"campaign_id": campaign.id})
    return [Target(*row) for row in rows]


def _angles() -> list[Any]:
    """The active angles; the built-ins when none are stored yet (a GET writes nothing)."""
    from crm.outreach.angles import BUILTIN_ANGLES

    angles = list(db.session.execute(_ACTIVE_ANGLES))
    return angles or sorted(BUILTIN_ANGLES, key=lambda a: a.label)


# What werkzeug's url_for leaves unescaped in a query string.
_QUERY_SAFE = "!$'()*,/:;?@"


def query_pairs(args: dict[str, Any]) -> list[tuple[str, Any]]:
    """Return query arguments as (name, value) pairs, one pair per item of a list."""
    pairs: list[tuple[str, Any]] = []
    for key, value in args.items():
        pairs += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return pairs


def sort_urls(view: GapFilter, base: str, per_page: int) -> dict[str, str]:
    """Return the link of each sortable column's header: the view sorted by that column."""
    # The URLs url_for builds, with the query encoded once for all ten headers:
    # sorting changes only `sort` and `dir`, always the last two arguments.
    args = view.query_args()
    del args["sort"], args["dir"]
    pairs = [("per_page", per_page), *query_pairs(args)]
    common = f"{base}?{urlencode(pairs, safe=_QUERY_SAFE)}&sort="
    urls = {}
    for column in SORTS:
        direction = "desc" if view.sorted_by(column).desc else "asc"
        urls[column] = f"{common}{column}&dir={direction}"
    return urls


@bp.route("/campaigns/<int:campaign_id>/gap")
def table(campaign_id: int) -> str:
    campaign: Campaign = g.campaign
    view = GapFilter.from_args(request.args)
    try:
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        per_page = 50
    per_page = per_page if per_page in PER_PAGE_CHOICES else 50
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    items, total = page_of(campaign.id, view, number, per_page)
    number = min(number, max(1, -(-total // per_page)))
    snapshot = latest_snapshot(campaign, light=True)
    now = utcnow()
    members = _members(campaign)
    targets = _targets(campaign)
    # Every row's link differs only in its trailing id: one url_for for all.
    base = url_for("prospects.show", campaign_id=campaign.id, prospect_id=0)[:-1]
    rows = render_rows(
        items,
        prospect_base=base,
        link_types=LINK_TYPES,
        targets={t.id: t for t in targets},
        members={u.id: u for u in members},
        rule_labels=RULE_LABELS if view.hidden != "no" else None,
    )
    return render_template(
        "gap/table.html",
        rows=rows,
        sort_urls=sort_urls(view, url_for("gap.table", campaign_id=campaign.id), per_page),
        targets=targets,
        campaign=campaign,
        view=view,
        page=Page(items, number, per_page, total),
        snapshot=snapshot,
        own_missing=own_export_missing(snapshot, campaign),
        stale=stale_reminder(campaign, now, snapshot),
        chart=json.dumps(chart_data(snapshot, len(campaign.competitors))),
        view_args=query_pairs(view.query_args()),
        categories=list(CATEGORY_BITS),
        status_options=STATUS_OPTIONS,
        link_type_options=LINK_TYPE_OPTIONS,
        rule_labels=RULE_LABELS,
        unwinnable_options=UNWINNABLE_OPTIONS,
        bulk_action_options=BULK_ACTION_OPTIONS,
        members=members,
        angles=_angles(),
        per_page_choices=PER_PAGE_CHOICES,
        enroll_limit=ENROLL_LIMIT,
        editable=True,
    )


@bp.route("/campaigns/<int:campaign_id>/gap/export.csv")
def export_csv(campaign_id: int) -> Response:
    campaign: Campaign = g.campaign
    view = GapFilter.from_args(request.args)
    stamp = utcnow().strftime("%Y-%m-%d")
    name = f"{campaign.site.domain}-gap-{stamp}.csv"
    body = stream_with_context(csv_lines(iter_facts(campaign.id, view)))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _selected_ids(campaign: Campaign, view: GapFilter) -> list[int]:
    if request.form.get("scope") == "all":
        return matching_ids(campaign.id, view)
    return [int(v) for v in request.form.getlist("prospect_id") if v.isdigit()]


def _run_bulk(campaign: Campaign, action: str, ids: list[int]) -> actions.BulkResult | None:
    form = request.form
    actor = current_user._get_current_object()
    if action == "qualify":
        return actions.qualify(campaign, ids, actor=actor)
    if action == "exclude":
        return actions.exclude(campaign, ids, form.get("reason", ""), actor=actor)
    if action == "unwinnable":
        return actions.mark_unwinnable(campaign, ids, form.get("unwinnable_reason", ""),
                                       form.get("reason", ""), actor=actor)  # fmt: skip
    if action == "restore":
        return actions.restore(campaign, ids, actor=actor)
    if action == "assign":
        raw = form.get("assignee", "")
        user = db.session.get(User, int(raw)) if raw.isdigit() else None
        if raw and user is None:
            raise UserError("choose whom to assign to")
        return actions.assign(campaign, ids, user, actor=actor)
    if action == "map_target":
        target = actions.find_target(campaign, form.get("target_id", ""))
        return actions.map_target(campaign, ids, target, actor=actor)
    if action == "set_angle":
        return actions.set_angle(campaign, ids, form.get("angle", ""), actor=actor)
    raise UserError("choose an action")


@bp.route("/campaigns/<int:campaign_id>/gap/bulk", methods=["POST"])
def bulk(campaign_id: int) -> BaseResponse:
    campaign: Campaign = g.campaign
    view = GapFilter.from_args(request.form)
    back = url_for("gap.table", campaign_id=campaign.id, **view.query_args())
    action = request.form.get("action", "")
    ids = _selected_ids(campaign, view)
    if not ids:
        flash("Select prospects first, or choose “all matching”.", "error")
        return redirect(back)
    if action == "enroll":
        return redirect(
            url_for("outbox.enroll_many", campaign_id=campaign.id, prospect_id=ids[:ENROLL_LIMIT])
        )
    try:
        result = _run_bulk(campaign, action, ids)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if result is not None:
        flash(result.summary(BULK_VERBS.get(action, "changed")), "ok")
    return redirect(back)


BULK_VERBS = {
    "qualify": "qualified",
    "exclude": "excluded",
    "unwinnable": "marked unwinnable",
    "restore": "restored",
    "assign": "assigned",
    "map_target": "mapped to the target page",
    "set_angle": "given the angle",
}


@bp.route("/campaigns/<int:campaign_id>/gap/assets")
def assets(campaign_id: int) -> str:
    campaign: Campaign = g.campaign
    snapshot = latest_snapshot(campaign)
    return render_template(
        "gap/assets.html", campaign=campaign, snapshot=snapshot,
        assets=(snapshot.assets if snapshot is not None else {}) or {},
    )  # fmt: skip


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
            for value, why in result.invalid[:20]:
                flash(f"Skipped {value}: {why}", "warning")
            return redirect(url_for("gap.table", campaign_id=campaign.id, view="all",
                                    sort="score"))  # fmt: skip
    return render_template("gap/add.html", campaign=campaign, form=form)


from crm.web import gap_import, gap_prospect, gap_settings  # noqa: E402, F401  (routes on this blueprint)
