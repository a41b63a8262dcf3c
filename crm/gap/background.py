"""Run an import where the web can wait for it: in the request when small, else in a thread.

A running import reports progress; one silent for INTERRUPTED_AFTER was
interrupted (the process that ran it went away). Big bulk changes run in
such a thread too (crm.gap.bulk_changes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app

from crm.extensions import db
from crm.gap.gc_tuning import fewer_cyclic_collections
from crm.gap.progress import file_sizes
from crm.gap.service import run_import
from crm.models import BulkChange, GapImport

# Uploads up to this many bytes run in the request; bigger ones in a thread
# (config GAP_INLINE_MAX_BYTES).
INLINE_MAX_BYTES = 4 * 1024 * 1024
# A running import that reported no progress for this long was interrupted
# (the process that ran it stopped).
INTERRUPTED_AFTER = timedelta(minutes=30)


def runs_inline(gap_import: GapImport) -> bool:
    """Tell whether an import is small enough to run in the request."""
    limit = current_app.config.get("GAP_INLINE_MAX_BYTES", INLINE_MAX_BYTES)
    return sum(file_sizes(f["path"] for f in gap_import.files)) <= int(limit)


def in_thread(app: Flask, name: str, work: Callable[[], object]) -> threading.Thread:
    """Run a job in a thread with its own app context and session.

    The job marks its own failure (the import or change says why); an error
    escaping it is only logged, as a thread's are.
    """

    def run() -> None:
        with app.app_context():
            try:
                work()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def start_in_background(app: Flask, import_id: int) -> threading.Thread:
    """Run an import in a thread with its own app context and session."""

    def work() -> None:
        try:
            with fewer_cyclic_collections():
                run_import(import_id)
        except Exception:  # logged by run_import; the import is marked failed
            pass

    return in_thread(app, f"gap-import-{import_id}", work)


def interrupted(
    job: GapImport | BulkChange, now: datetime, after: timedelta = INTERRUPTED_AFTER
) -> bool:
    """Tell whether a running import or bulk change went silent (its process went away)."""
    if job.state.value != "running":
        return False
    last = job.progress_at or job.created_at
    return now - last > after
