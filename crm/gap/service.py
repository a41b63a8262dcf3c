"""The DB side of a gap import: store and inspect the files, validate, run, report progress.

An import goes pending -> running -> done | failed. Files are inspected as
soon as they arrive (format, owner, encoding, delimiter, estimated rows) so
the page can show what was detected before anything is committed; the user
may then set a file's owner, its format or a generic CSV column mapping.
Running reduces every file first: one bad file fails the import and nothing
of the snapshot is written, so the previous snapshot stays intact.

`run_import` is a job, not a service: it commits (progress as it goes, then
the snapshot a batch at a time). The web runs it in the request for small
uploads and in a background thread for big ones (crm.gap.background);
`crm gap import` writes through `import_now`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import defer

from crm.core.errors import UserError
from crm.extensions import db
from crm.gap.diff import is_stale
from crm.gap.exports import ExportError
from crm.gap.inspection import inspect_entry, inspected_entry
from crm.gap.progress import ProgressReporter, commit_progress, file_sizes
from crm.gap.reduce import Reduction, reduce_exports
from crm.gap.snapshot import write_snapshot
from crm.gap.uploads import store_uploads
from crm.models import Campaign, GapImport, ImportState, User, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    """A file to import: where it is, what to call it, and what the user said about it."""

    path: str
    name: str
    owner: str | None = None
    format_id: str | None = None
    mapping: dict[str, str] | None = None


# -- creating an import -------------------------------------------------------


def create_import(campaign: Campaign, *, actor: User | None = None) -> GapImport:
    """Start a pending import for a campaign (flush)."""
    gap_import = GapImport(campaign_id=campaign.id, created_by_id=actor.id if actor else None)
    gap_import.campaign = campaign
    gap_import.files = []
    db.session.add(gap_import)
    db.session.flush()
    return gap_import


def save_uploads(gap_import: GapImport, uploads: Iterable[tuple[str, IO[bytes]]]) -> None:
    """Store uploaded files under instance/imports/<id>/ and inspect each (flush)."""
    stored = store_uploads(gap_import, uploads)
    add_sources(gap_import, [SourceFile(path, name) for path, name in stored])


def add_sources(gap_import: GapImport, sources: Sequence[SourceFile]) -> None:
    """Add files to a pending import and inspect each (flush)."""
    _require_pending(gap_import)
    files = list(gap_import.files or [])
    for source in sources:
        entry: dict[str, Any] = {
            "name": source.name,
            "path": source.path,
            "owner": source.owner,
            "format_hint": source.format_id,
            "mapping": source.mapping,
        }
        files.append(inspected_entry(gap_import.campaign, entry))
    gap_import.files = files
    db.session.flush()


def update_file(
    gap_import: GapImport,
    index: int,
    *,
    owner: str | None = None,
    format_id: str | None = None,
    mapping: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Set a file's owner, format or generic column mapping and inspect it again (flush)."""
    _require_pending(gap_import)
    files = list(gap_import.files)
    if not 0 <= index < len(files):
        raise UserError("no such file in this import")
    entry = dict(files[index])
    entry["owner"] = owner or None
    entry["format_hint"] = format_id or None
    entry["mapping"] = {k: v for k, v in (mapping or {}).items() if v} or None
    files[index] = inspected_entry(gap_import.campaign, entry)
    gap_import.files = files
    db.session.flush()
    return files[index]


def remove_file(gap_import: GapImport, index: int) -> None:
    """Drop a file from a pending import (flush)."""
    _require_pending(gap_import)
    files = list(gap_import.files)
    if not 0 <= index < len(files):
        raise UserError("no such file in this import")
    del files[index]
    gap_import.files = files
    db.session.flush()


def discard_import(gap_import: GapImport) -> int:
    """Delete a pending import that will not be run; return its id (flush).

    Its uploaded files are the caller's to remove once this is committed
    (`uploads.remove_upload_folder`): removing them first would lose them if
    the transaction rolled back.
    """
    _require_pending(gap_import)
    import_id = gap_import.id
    db.session.delete(gap_import)
    db.session.flush()
    return import_id


def _require_pending(gap_import: GapImport) -> None:
    if gap_import.state != ImportState.PENDING:
        raise UserError("this import already ran; start a new one to change its files")


# -- running ------------------------------------------------------------------


def file_errors(gap_import: GapImport) -> list[str]:
    """Return the problems that stop this import from running (empty when it can run)."""
    if not gap_import.files:
        return ["add at least one export file"]
    return [f["error"] for f in gap_import.files if f.get("error")]


def running_import(campaign: Campaign) -> GapImport | None:
    """Return the campaign's import that is running now, if any."""
    return db.session.scalar(
        select(GapImport).where(
            GapImport.campaign_id == campaign.id, GapImport.state == ImportState.RUNNING
        )
    )


def prepare_run(gap_import: GapImport) -> None:
    """Check an import can run and mark it running with its byte total (flush)."""
    _require_pending(gap_import)
    problems = file_errors(gap_import)
    if problems:
        raise UserError(problems[0])
    other = running_import(gap_import.campaign)
    if other is not None and other.id != gap_import.id:
        raise UserError("another import of this campaign is running; wait for it to finish")
    # Imported after this module's load: a bulk change checks for running imports here.
    from crm.gap.bulk_changes import running_bulk_change

    if running_bulk_change(gap_import.campaign) is not None:
        raise UserError("a bulk change of this campaign's prospects is running; wait for it "
                        "to finish")  # fmt: skip
    gap_import.state = ImportState.RUNNING
    gap_import.bytes_total = sum(file_sizes(f["path"] for f in gap_import.files))
    gap_import.bytes_done = 0
    gap_import.progress_at = utcnow()
    gap_import.error = ""
    db.session.flush()


def run_import(import_id: int, *, now: datetime | None = None) -> GapImport:
    """Reduce every file and write the snapshot; commit progress, then the result (a job).

    A bad file marks the import failed with the file, line and column, and
    writes nothing else.
    """
    gap_import = db.session.get(GapImport, import_id)
    if gap_import is None:
        raise UserError(f"no import #{import_id}")
    if gap_import.state == ImportState.PENDING:
        prepare_run(gap_import)
    campaign = gap_import.campaign
    site, competitors = campaign.site.domain, list(campaign.competitor_domains)
    entries = [dict(f) for f in gap_import.files]
    db.session.commit()  # nothing held open while the files are read (SQLite locks)
    try:
        infos = [inspect_entry(campaign, e) for e in entries]
        reduction = reduce_exports(
            infos,
            site=site,
            competitors=competitors,
            on_progress=ProgressReporter(db.engine, import_id),
        )
    except ExportError as exc:
        db.session.rollback()
        return _fail(import_id, exc)
    gap_import = db.session.get(GapImport, import_id)
    assert gap_import is not None
    try:
        with reduction:
            _finish(gap_import, reduction, now or utcnow(), checkpoint=commit_progress(import_id))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("gap import %s failed while writing the snapshot", import_id)
        _fail(import_id, None)
        raise
    return gap_import


def _finish(
    gap_import: GapImport,
    reduction: Reduction,
    now: datetime,
    checkpoint: Callable[[int, int], None] | None = None,
) -> None:
    write_snapshot(gap_import, reduction, now=now, checkpoint=checkpoint)
    gap_import.state = ImportState.DONE
    gap_import.finished_at = utcnow()
    gap_import.bytes_done = gap_import.bytes_total


def import_now(
    campaign: Campaign,
    sources: Sequence[SourceFile],
    *,
    actor: User | None = None,
    now: datetime | None = None,
    commit_batches: bool = False,
) -> GapImport:
    """Reduce the files, then write them as a new snapshot, in the caller's session (flush).

    Every file is read to the end before anything is added to the session:
    a bad one raises UserError naming file, line and column, and nothing is
    written, not even a failed import. `crm gap import` and the demo use this.
    With `commit_batches` (the CLI, which shares the database with everyone)
    the snapshot is committed a batch at a time, so nobody waits on its lock;
    a failure then marks the import failed and re-raises.
    """
    entries = [{"path": s.path, "name": s.name, "owner": s.owner, "format_hint": s.format_id,
                "mapping": s.mapping} for s in sources]  # fmt: skip
    if not entries:
        raise UserError("give at least one export file")
    try:
        infos = [inspect_entry(campaign, e) for e in entries]
        reduction = reduce_exports(
            infos, site=campaign.site.domain, competitors=list(campaign.competitor_domains)
        )
    except ExportError as exc:
        raise UserError(str(exc)) from None
    with reduction:
        gap_import = create_import(campaign, actor=actor)
        add_sources(gap_import, sources)
        prepare_run(gap_import)
        if not commit_batches:
            _finish(gap_import, reduction, now or utcnow())
            db.session.flush()
            return gap_import
        db.session.commit()
        import_id = gap_import.id
        try:
            _finish(gap_import, reduction, now or utcnow(), checkpoint=commit_progress(import_id))
            db.session.commit()
        except Exception:
            db.session.rollback()
            _fail(import_id, None)
            raise
    return gap_import


def _fail(import_id: int, exc: ExportError | None) -> GapImport:
    gap_import = db.session.get(GapImport, import_id)
    assert gap_import is not None
    gap_import.state = ImportState.FAILED
    gap_import.finished_at = utcnow()
    if exc is None:
        gap_import.error = (
            "the snapshot could not be written to the end (see the server log); the previous "
            "snapshot stays the current one: run the import again"
        )
    else:
        gap_import.error = str(exc)
        files = [dict(f) for f in gap_import.files]
        for entry in files:
            if exc.file == entry["name"] or exc.file.startswith(entry["name"] + " › "):
                entry["error"] = str(exc)
        gap_import.files = files
    db.session.commit()
    return gap_import


# -- snapshots ----------------------------------------------------------------


# Built once, as pages read the snapshot on every request: SQLAlchemy memoises the
# cache key of a statement it has seen (and the deferred options' keys cost most).
_LATEST = (
    select(GapImport)
    .where(GapImport.campaign_id == bindparam("campaign_id"), GapImport.state == ImportState.DONE)
    .order_by(GapImport.finished_at.desc(), GapImport.id.desc())
    .limit(1)
)
_LATEST_LIGHT = _LATEST.options(defer(GapImport.files), defer(GapImport.diff),
                                defer(GapImport.assets))  # fmt: skip


def latest_snapshot(campaign: Campaign, *, light: bool = False) -> GapImport | None:
    """Return the campaign's newest finished import (its current snapshot).

    `light` leaves its files, diff and assets unloaded (loaded on first access).
    """
    snapshot: GapImport | None = db.session.scalar(
        _LATEST_LIGHT if light else _LATEST, {"campaign_id": campaign.id}
    )
    return snapshot


def own_export_missing(snapshot: GapImport | None, campaign: Campaign) -> bool:
    """Tell whether the snapshot has no export of our own site (the gap then over-counts)."""
    if snapshot is None:
        return False
    have = set(snapshot.sites_covered or []) | set(snapshot.sites_carried or [])
    return campaign.site.domain not in have


def stale_reminder(
    campaign: Campaign, now: datetime, snapshot: GapImport | None = None
) -> str | None:
    """Say when the newest snapshot (read when not given) is older than the re-run cadence."""
    snapshot = snapshot or latest_snapshot(campaign)
    if snapshot is None or snapshot.finished_at is None:
        return None
    if not is_stale(snapshot.finished_at, now, timedelta(days=campaign.rerun_cadence_days)):
        return None
    age = now - snapshot.finished_at
    return (
        f"The newest import is {age.days} days old (the campaign re-runs every "
        f"{campaign.rerun_cadence_days} days): export fresh backlinks and import them to see "
        "what changed."
    )
