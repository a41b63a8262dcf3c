"""The import pages: upload several exports, review what was detected, run with a progress bar.

Small uploads run in the request; bigger ones in a background thread whose
progress the page polls (htmx). Endpoints of the "gap" blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.ids import parse_id
from crm.extensions import db
from crm.gap.background import interrupted, runs_inline, start_in_background
from crm.gap.column_mappings import save_mapping, saved_mappings
from crm.gap.exports import GENERIC_FIELDS, format_choices
from crm.gap.service import (
    SourceFile,
    add_sources,
    create_import,
    discard_import,
    file_errors,
    own_export_missing,
    prepare_run,
    remove_file,
    run_import,
    save_uploads,
    update_file,
)
from crm.gap.uploads import remove_upload_folder, upload_max_bytes
from crm.models import Campaign, ColumnMapping, GapImport, ImportState, utcnow
from crm.web.gap.blueprint import bp
from crm.web.objects import load_object

RECENT_IMPORTS = 10
# The pages whose form carries export files: their request may be as large as an upload.
_UPLOAD_ENDPOINTS = {"gap.import_new", "gap.import_add"}


@bp.url_value_preprocessor
def _upload_size_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Let a signed-in user's upload of exports reach GAP_UPLOAD_MAX_BYTES.

    A URL value preprocessor, because it runs before every before_request
    function, and the CSRF check there parses the form: the limit must be set
    before that. Anyone else keeps the app's smaller MAX_CONTENT_LENGTH.
    """
    if endpoint in _UPLOAD_ENDPOINTS and request.method == "POST" and current_user.is_authenticated:
        request.max_content_length = upload_max_bytes(current_app.config)


def _import(campaign: Campaign, import_id: int) -> GapImport:
    return load_object(GapImport, import_id, campaign=campaign)


def _show(gap_import: GapImport) -> Response:
    return redirect(
        url_for("gap.import_show", campaign_id=gap_import.campaign_id, import_id=gap_import.id)
    )


def _upload_page(campaign: Campaign, error: str | None = None) -> str:
    recent = db.session.scalars(
        select(GapImport)
        .where(GapImport.campaign_id == campaign.id)
        .order_by(GapImport.id.desc())
        .limit(RECENT_IMPORTS)
    ).all()
    return render_template(
        "gap/import.html", campaign=campaign, recent=recent, error=error, formats=format_choices()
    )


def _uploads() -> list[tuple[str, Any]]:
    return [(f.filename or "", f.stream) for f in request.files.getlist("files") if f.filename]


@bp.route("/campaigns/<int:campaign_id>/gap/import", methods=["GET", "POST"])
def import_new(campaign_id: int) -> Response | str | tuple[str, int]:
    campaign: Campaign = g.campaign
    if request.method == "GET":
        return _upload_page(campaign)
    gap_import = create_import(campaign, actor=current_user._get_current_object())
    try:
        save_uploads(gap_import, _uploads())
        hint = request.form.get("format_id") or None
        if hint:
            for index in range(len(gap_import.files)):
                update_file(gap_import, index, format_id=hint)
    except UserError as exc:
        db.session.rollback()
        return _upload_page(campaign, exc.message), 422
    db.session.commit()
    return _show(gap_import)


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>")
def import_show(campaign_id: int, import_id: int) -> str:
    campaign: Campaign = g.campaign
    gap_import = _import(campaign, import_id)
    return render_template(
        "gap/import_show.html",
        campaign=campaign,
        gap_import=gap_import,
        problems=file_errors(gap_import),
        formats=format_choices(),
        fields=GENERIC_FIELDS,
        mappings=saved_mappings(),
        sites=[campaign.site.domain, *campaign.competitor_domains],
        interrupted=interrupted(gap_import, utcnow()),
        own_missing=gap_import.state == ImportState.DONE
        and own_export_missing(gap_import, campaign),
    )


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/files", methods=["POST"])
def import_add(campaign_id: int, import_id: int) -> Response:
    gap_import = _import(g.campaign, import_id)
    try:
        save_uploads(gap_import, _uploads())
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
    return _show(gap_import)


def _mapping_from_form() -> dict[str, str]:
    saved_id = parse_id(request.form.get("saved_mapping"))
    if saved_id is not None:
        saved = db.session.get(ColumnMapping, saved_id)
        if saved is not None:
            return dict(saved.mapping)
    return {
        f: request.form.get(f"map_{f}", "") for f in GENERIC_FIELDS if request.form.get(f"map_{f}")
    }


@bp.route(
    "/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/files/<int:index>", methods=["POST"]
)
def import_file(campaign_id: int, import_id: int, index: int) -> Response:
    """Set one file's owner, format or column mapping (and save the mapping for reuse)."""
    gap_import = _import(g.campaign, import_id)
    mapping = _mapping_from_form()
    try:
        save_as = request.form.get("save_as", "").strip()
        if save_as and mapping:
            save_mapping(save_as, mapping, actor=current_user._get_current_object())
        entry = update_file(
            gap_import,
            index,
            owner=request.form.get("owner") or None,
            format_id=request.form.get("format_id") or None,
            mapping=mapping or None,
        )
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _show(gap_import)
    db.session.commit()
    if entry.get("error"):
        flash(f"{entry['name']}: still not readable, see below.", "warning")
    else:
        flash(f"{entry['name']}: {entry['detected']['label']}.", "ok")
    return _show(gap_import)


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/discard", methods=["POST"])
def import_discard(campaign_id: int, import_id: int) -> Response:
    """Throw away a pending import and its uploaded files."""
    gap_import = _import(g.campaign, import_id)
    try:
        discarded = discard_import(gap_import)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _show(gap_import)
    db.session.commit()
    remove_upload_folder(discarded)
    flash("Import discarded: its files were deleted.", "ok")
    return redirect(url_for("gap.import_new", campaign_id=campaign_id))


@bp.route(
    "/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/files/<int:index>/remove",
    methods=["POST"],
)
def import_remove_file(campaign_id: int, import_id: int, index: int) -> Response:
    gap_import = _import(g.campaign, import_id)
    try:
        remove_file(gap_import, index)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
    return _show(gap_import)


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/run", methods=["POST"])
def import_run(campaign_id: int, import_id: int) -> Response:
    gap_import = _import(g.campaign, import_id)
    try:
        inline = runs_inline(gap_import)
        prepare_run(gap_import)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _show(gap_import)
    db.session.commit()
    if inline:
        done = run_import(gap_import.id)
        if done.state == ImportState.DONE:
            flash(f"Imported: {done.gap_count} domains in the gap.", "ok")
    else:
        start_in_background(current_app._get_current_object(), gap_import.id)  # type: ignore[attr-defined]
    return _show(gap_import)


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/retry", methods=["POST"])
def import_retry(campaign_id: int, import_id: int) -> Response:
    """Start a new import with the files of a failed one, to fix an owner or a mapping."""
    campaign: Campaign = g.campaign
    failed = _import(campaign, import_id)
    fresh = create_import(campaign, actor=current_user._get_current_object())
    add_sources(
        fresh,
        [SourceFile(f["path"], f["name"], f.get("owner"), f.get("format_hint"), f.get("mapping"))
         for f in failed.files],
    )  # fmt: skip
    db.session.commit()
    return _show(fresh)


@bp.route("/campaigns/<int:campaign_id>/gap/imports/<int:import_id>/progress")
def import_progress(campaign_id: int, import_id: int) -> Response | str:
    """The progress bar fragment; once the import ends, htmx is sent to its page."""
    gap_import = _import(g.campaign, import_id)
    if gap_import.state != ImportState.RUNNING and request.headers.get("HX-Request"):
        response = current_app.make_response("")
        response.headers["HX-Redirect"] = url_for(
            "gap.import_show", campaign_id=gap_import.campaign_id, import_id=gap_import.id
        )
        return response
    return render_template(
        "gap/_progress.html",
        campaign=g.campaign,
        gap_import=gap_import,
        interrupted=interrupted(gap_import, utcnow()),
    )
