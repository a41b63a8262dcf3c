"""Commit how far the reading of an import's files has got, for the progress bar.

The reducer calls back with the bytes read (about every megabyte); this
commits bytes_done on its own connection at most twice a second. The reading
holds no transaction open, so these small commits never wait on it, even on
SQLite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from sqlalchemy import Engine, update

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
