"""Report how far the reading of an import's files has got, for the progress bar.

The reducer reads the files one after another and offers no callback, so a
watcher thread looks at which of them this process has open and at what
offset (Linux: /proc/self/fdinfo), and commits bytes_done on its own
connection every half second. Elsewhere the bar jumps to full when reading
ends. The reading itself holds no transaction open, so these small commits
never wait on it, even on SQLite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, update

from crm.models import GapImport, utcnow

INTERVAL_SECONDS = 0.5
_FD_DIR = Path("/proc/self/fd")


def file_sizes(paths: Iterable[str]) -> list[int]:
    """Return the on-disk size of each file (0 when it is gone)."""
    sizes = []
    for path in paths:
        try:
            sizes.append(os.path.getsize(path))
        except OSError:
            sizes.append(0)
    return sizes


def open_offset(path: str) -> int | None:
    """Return the read offset of `path` if this process has it open (Linux), else None."""
    if not _FD_DIR.is_dir():
        return None
    wanted = os.path.realpath(path)
    try:
        fds = os.listdir(_FD_DIR)
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(_FD_DIR / fd) != wanted:
                continue
            with open(f"/proc/self/fdinfo/{fd}") as info:
                for line in info:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return None


class ReadProgress:
    """A watcher thread committing bytes read while the files are reduced."""

    def __init__(self, engine: Engine, import_id: int, paths: list[str]) -> None:
        self._engine = engine
        self._import_id = import_id
        self._paths = paths
        self._sizes = file_sizes(paths)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported = 0

    def bytes_read(self) -> int:
        """Bytes of the files read so far: the files before the open one, plus its offset."""
        for index, path in enumerate(self._paths):
            offset = open_offset(path)
            if offset is not None:
                done = sum(self._sizes[:index]) + min(offset, self._sizes[index])
                self._reported = max(self._reported, done)
                break
        return self._reported

    def _commit(self, done: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(GapImport)
                .where(GapImport.id == self._import_id)
                .values(bytes_done=done, progress_at=utcnow())
            )

    def _watch(self) -> None:
        last = -1
        while not self._stop.wait(INTERVAL_SECONDS):
            done = self.bytes_read()
            if done != last:
                try:
                    self._commit(done)
                except Exception:  # a busy database only delays the bar
                    continue
                last = done

    def __enter__(self) -> ReadProgress:
        self._thread = threading.Thread(target=self._watch, name="gap-import-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
