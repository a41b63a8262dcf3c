"""Where an import's uploaded files live, how big an upload may be, and when the files go.

Uploads are kept under instance/imports/<import id>/ while the import may
still need them (review, run, retry) and removed a configurable number of
days after it finished (`crm worker`'s "remove-old-uploads" job): exports are
the competitors' whole link profiles and take gigabytes.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select
from werkzeug.utils import secure_filename

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import GapImport, ImportState, utcnow

log = logging.getLogger(__name__)

# One request's uploads, in bytes (config GAP_UPLOAD_MAX_BYTES): five of the
# largest real exports (400,000-row Ahrefs backlinks, UTF-16, about 300 MB each).
UPLOAD_MAX_BYTES = 2 << 30
# Days an import's files are kept after it finished (config GAP_UPLOADS_KEEP_DAYS).
KEEP_DAYS = 30
_FINISHED = (ImportState.DONE, ImportState.FAILED)


def upload_max_bytes(config: Any) -> int:
    """Return how many bytes one upload request to the import pages may carry."""
    return int(config.get("GAP_UPLOAD_MAX_BYTES") or UPLOAD_MAX_BYTES)


def keep_days(config: Any) -> int:
    """Return how many days an import's files are kept after it finished."""
    return int(config.get("GAP_UPLOADS_KEEP_DAYS") or KEEP_DAYS)


def uploads_root() -> Path:
    """Return instance/imports/, the parent of every import's folder."""
    return Path(current_app.instance_path) / "imports"


def imports_folder(import_id: int) -> Path:
    """Return instance/imports/<import id>/, where the uploads of an import are kept."""
    return uploads_root() / str(import_id)


def remove_upload_folder(import_id: int) -> None:
    """Delete an import's uploaded files (after the import's row is gone for good)."""
    shutil.rmtree(imports_folder(import_id), ignore_errors=True)


# The name a file is shown by; on disk it is shorter still (file systems take 255 bytes).
MAX_NAME = 200
_MAX_DISK_NAME = 100


def _shortened(name: str, limit: int) -> str:
    """Cut a file name to `limit` characters, keeping its extension."""
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 16:
        return name[:limit]
    return f"{stem[: limit - len(extension) - 1]}.{extension}"


def store_uploads(
    gap_import: GapImport, uploads: Iterable[tuple[str, IO[bytes]]]
) -> list[tuple[str, str]]:
    """Copy uploaded streams into the import's folder; return (path, name) of each."""
    folder = imports_folder(gap_import.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored: list[tuple[str, str]] = []
    for filename, stream in uploads:
        name = _shortened(Path(filename.replace("\\", "/")).name.strip(), MAX_NAME)
        if not name:
            continue
        index = len(gap_import.files) + len(stored)
        on_disk = _shortened(secure_filename(name) or "export.csv", _MAX_DISK_NAME)
        path = folder / f"{index + 1:02d}-{on_disk}"
        with open(path, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        stored.append((str(path), name))
    if not stored and not gap_import.files:
        raise UserError("choose at least one export file", field="files")
    return stored


def remove_old_uploads(now: datetime, days: int) -> int:
    """Delete the folders of imports that finished more than `days` ago; return how many.

    A folder whose import does not exist (its request failed and rolled
    back) goes once it is that old itself. Pending and running imports keep
    their files whatever their age.
    """
    root = uploads_root()
    if not root.is_dir():
        return 0
    folders = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
    cutoff = now - timedelta(days=days)
    states: dict[int, tuple[ImportState, datetime | None]] = {}
    ids = sorted(folders)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(GapImport.id, GapImport.state, GapImport.finished_at).where(
                GapImport.id.in_(ids[start : start + 500])
            )
        )
        states.update({row.id: (row.state, row.finished_at) for row in rows})
    removed = 0
    for import_id, folder in folders.items():
        state, finished = states.get(import_id, (None, None))
        if state is None:
            changed = datetime.fromtimestamp(folder.stat().st_mtime, tz=now.tzinfo)
            old = changed < cutoff
        else:
            old = state in _FINISHED and finished is not None and finished < cutoff
        if old:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def job_remove_old_uploads() -> dict[str, int]:
    """Remove the uploads of imports finished longer ago than GAP_UPLOADS_KEEP_DAYS (a job)."""
    removed = remove_old_uploads(utcnow(), keep_days(current_app.config))
    db.session.rollback()  # read only: end the transaction the query opened
    if removed:
        log.info("removed the uploads of %d finished imports", removed)
    return {"removed": removed}
