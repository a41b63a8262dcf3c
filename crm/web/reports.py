"""Reports: the manager's dashboard, the report builder and their CSV downloads.

Every number comes from crm/reports (the same code as `crm report`); the
page draws charts with Chart.js from JSON beside each chart's table.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from crm.core.csv_cells import write_csv_rows
from crm.reports.charts import (
    Table,
    anchors_table,
    forecast_table,
    funnel_table,
    health_table,
    matrix,
    rates_table,
    weekly_table,
)
from crm.reports.dashboard import Dashboard, build_dashboard
from crm.reports.definitions import HOW_COUNTED, SMALL_SAMPLE
from crm.reports.dimensions import DIMENSIONS
from crm.reports.report import build_report
from crm.reports.shaping import headers, table_cells
from crm.web import report_digest, report_rankings
from crm.web.report_filters import Filters, read_filters, today

bp = Blueprint("reports", __name__, url_prefix="/reports")

# The dashboard's downloads: each chart's table, by name.
DASHBOARD_TABLES = ("angle", "tier", "angle-tier", "funnel", "weekly", "anchors", "health",
                    "forecast")  # fmt: skip


def _filters(breakdowns: bool = False) -> Filters:
    return read_filters(request.args, current_user._get_current_object(), breakdowns=breakdowns)


def dashboard_tables(board: Dashboard) -> dict[str, Table]:
    """Each dashboard chart's table, by download name."""
    return {
        "angle": rates_table(("angle",), board.by_angle, ("reply", "placement")),
        "tier": rates_table(("tier",), board.by_tier, ("placement", "reply")),
        "angle-tier": rates_table(("angle", "tier"), board.angle_tier, ("placement",)),
        "funnel": funnel_table(board.funnels, board.funnel),
        "weekly": weekly_table(board.weeks),
        "anchors": anchors_table(board.health),
        "health": health_table(board.health),
        "forecast": forecast_table(board.outlook.forecast, board.outlook.angle_labels),
    }


@bp.route("")
def index() -> Any:
    filters = _filters()
    board = tables = grid = None
    if filters.ok:
        board = build_dashboard(filters.scope, today(), filters.goal)
        tables = dashboard_tables(board)
        grid = matrix(board.angle_tier)
    html = render_template(
        "reports/dashboard.html", filters=filters, board=board, tables=tables,
        angle_tier_grid=grid,
        DIMENSIONS=DIMENSIONS, how_counted=HOW_COUNTED, small_sample=SMALL_SAMPLE,
    )  # fmt: skip
    return html, filters.status


@bp.route("/builder")
def builder() -> Any:
    filters = _filters(breakdowns=True)
    rows = None
    if filters.ok:
        rows = build_report(filters.dims, filters.scope)
    html = render_template(
        "reports/builder.html", filters=filters, rows=rows, dims=filters.dims,
        headers=headers(filters.dims) if filters.ok else [], cells=table_cells,
        report_chart=rates_table(filters.dims, rows, ("reply", "positive", "placement")).chart
        if rows else None,
        DIMENSIONS=DIMENSIONS, how_counted=HOW_COUNTED, small_sample=SMALL_SAMPLE,
    )  # fmt: skip
    return html, filters.status


@bp.route("/export/<name>.csv")
def export(name: str) -> Any:
    """A chart's table (or the builder's report) as CSV, formula cells escaped."""
    if name not in (*DASHBOARD_TABLES, "report"):
        abort(404)
    filters = _filters(breakdowns=name == "report")
    if not filters.ok:
        abort(filters.status, "; ".join(filters.errors.values()))
    if name == "report":
        rows = build_report(filters.dims, filters.scope)
        table = rates_table(filters.dims, rows, ())
    else:
        table = dashboard_tables(build_dashboard(filters.scope, today(), filters.goal))[name]
    out = io.StringIO()
    write_csv_rows(out, [table.headers, *table.rows])
    stem = name if name != "report" else "report-" + "-".join(filters.dims)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="linkgap-{stem}.csv"'},
    )


# Reports › Rankings (crm/web/report_rankings.py).
bp.add_url_rule("/rankings", "rankings", report_rankings.rankings, methods=["GET"])
bp.add_url_rule("/rankings", "upload_rankings", report_rankings.upload_rankings, methods=["POST"])
bp.add_url_rule(
    "/rankings/<int:import_id>/delete",
    "delete_rankings",
    report_rankings.delete_rankings,
    methods=["POST"],
)

# Reports › Weekly digest (crm/web/report_digest.py).
bp.add_url_rule("/digest", "digest", report_digest.digest, methods=["GET"])
bp.add_url_rule("/digest", "save_digest", report_digest.save_digest, methods=["POST"])
