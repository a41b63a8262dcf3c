"""Commit how far an import has got, for the progress bar: reading, then scoring and writing.

The reducer calls back with the bytes read (about every megabyte); this
commits bytes_done on its own connection at most twice a second. The reading
holds no transaction open, so these small commits never wait on it, even on
SQLite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine, update

from crm.extensions import db
from crm.models import GapImport, utcnow

INTERVAL_SECONDS = 0.5


def file_sizes(paths: Iterable[str]) -> list[int]:
    """Return the on-disk size of each file (0 when it is gone)."""
    sizes = []
    for path in paths:
        try:
            sizes.append(os.path.getsize(path))
        except OSError:
            sizes.append(0)
    return sizes


class ProgressReporter:
    """An `on_progress(done, total)` callback that commits bytes read to the import row."""

    def __init__(self, engine: Engine, import_id: int) -> None:
        self._engine = engine
        self._import_id = import_id
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < INTERVAL_SECONDS and done < total:
            return
        self._last = now
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    update(GapImport)
                    .where(GapImport.id == self._import_id)
                    .values(bytes_done=done, bytes_total=max(total, 1), progress_at=utcnow())
                )
        except Exception:  # a busy database only delays the bar
            return


def commit_progress(import_id: int) -> Callable[[int, int], None]:
    """Return a snapshot checkpoint that commits the batch written and how far the import got.

    While an import runs, domain_count and gap_count hold the domains written
    and the domains to write (the progress bar's scoring-and-writing phase);
    the finished import's summary replaces them.
    """

    def checkpoint(done: int, total: int) -> None:
        db.session.execute(
            update(GapImport)
            .where(GapImport.id == import_id)
            .values(domain_count=done, gap_count=total, progress_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    return checkpoint
