"""The gap table: filtered, sorted and paginated, its bulk actions, its CSV export, the chart."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from crm.core.errors import UserError
from crm.core.ids import parse_id, parse_whole
from crm.core.stages import HAND_SET
from crm.extensions import db
from crm.gap.assess import LINK_TYPES
from crm.gap.bulk_changes import (
    CHOICE_FIELDS,
    running_bulk_change,
)
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
from crm.gap.service import latest_snapshot, own_export_missing, stale_reminder
from crm.models import Campaign, GapImport, ProspectStatus, utcnow
from crm.models.prospect import CATEGORY_BITS
from crm.web.gap import choices
from crm.web.gap.blueprint import bp
from crm.web.gap.changes import answer_bulk, change_as_user
from crm.web.gap.rows import render_rows
from crm.web.helpers import Options, Page, page_number
from crm.web.outbox import ENROLL_LIMIT, enroll_page

BULK_ACTIONS = {
    "qualify": "Qualify",
    "exclude": "Exclude with a reason",
    "unwinnable": "Mark unwinnable",
    "restore": "Restore (show again)",
    "assign": "Assign to",
    "map_target": "Map to target page",
    "set_angle": "Set angle",
    "map_target_angle": "Map to target page and set angle",
    "stage": "Move to stage…",
    "enroll": "Enroll in a sequence…",
}
# The fixed choices of the table's filter and bulk bars, escaped once.
STATUS_OPTIONS = Options((s.value, s.label) for s in ProspectStatus)
LINK_TYPE_OPTIONS = Options(LINK_TYPES.items())
BULK_ACTION_OPTIONS = Options(BULK_ACTIONS.items())
UNWINNABLE_OPTIONS = Options(UNWINNABLE_REASONS.items())
STAGE_OPTIONS = Options((s.value, s.label) for s in HAND_SET)


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
    per_page = parse_whole(request.args.get("per_page"))
    per_page = per_page if per_page in PER_PAGE_CHOICES else 50
    number = page_number()
    # The header counts every gap domain; the page says how many of them this view hides.
    items, total, hidden = page_of(campaign.id, view, number, per_page)
    number = min(number, max(1, -(-total // per_page)))
    snapshot = latest_snapshot(campaign, light=True)
    now = utcnow()
    members = choices.members(campaign)
    targets = choices.targets(campaign)
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
        stage_options=STAGE_OPTIONS,
        members=members,
        angles=choices.angles(),
        per_page_choices=PER_PAGE_CHOICES,
        hidden_count=hidden,
        enroll_limit=ENROLL_LIMIT,
        running_change=running_bulk_change(campaign, now),
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
    # Ticked rows: never more than the table's longest page shows.
    ids = map(parse_id, request.form.getlist("prospect_id")[: max(PER_PAGE_CHOICES)])
    return [i for i in ids if i is not None]


@bp.route("/campaigns/<int:campaign_id>/gap/bulk", methods=["POST"])
def bulk(campaign_id: int) -> BaseResponse | str:
    campaign: Campaign = g.campaign
    view = GapFilter.from_args(request.form)
    # Back to the results, not the top of the page: Apply keeps the reader's place.
    back = url_for("gap.table", campaign_id=campaign.id, _anchor="results", **view.query_args())
    action = request.form.get("action", "")
    ids = _selected_ids(campaign, view)
    if not ids:
        flash("Select prospects first, or choose “all matching”.", "error")
        return redirect(back)
    if action not in BULK_ACTIONS:
        flash("Choose an action.", "error")
        return redirect(back)
    if action == "enroll":
        if len(ids) > ENROLL_LIMIT:
            flash(f"The enroll page takes {ENROLL_LIMIT:,} prospects at a time: these are the "
                  f"first {ENROLL_LIMIT:,} of the {len(ids):,} matching, in the table's order.",
                  "info")  # fmt: skip
        return enroll_page(campaign, ids[:ENROLL_LIMIT], "")
    choices = {key: request.form.get(key, "") for key in CHOICE_FIELDS}
    try:
        outcome = change_as_user(campaign, action, ids, choices=choices, view=view.query_args())
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    return answer_bulk(outcome, ids, action, back=back)
