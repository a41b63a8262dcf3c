"""Make Python's cyclic garbage collector get out of an import's way.

An import keeps a batch's millions of young objects alive until the batch is
written. At Python's default threshold (a young collection every 700 new
objects) the collector walked them again and again, and the survivors filled
the oldest generation, whose full passes walk every object alive: a fifth of
a large import's time, for no cycles worth it.

- `crm gap import` is a process that does nothing else: it pauses the
  collector (`cyclic_collection_paused`). Reference counting frees as before;
  a 766,974-domain import found no cycles worth collecting.
- A browser upload runs in a thread of the web process, which keeps serving
  other requests: pausing would stop collection for all of them, so the young
  threshold is raised instead (`fewer_cyclic_collections`) and cycles are
  still collected, only less often.

Measured, `crm gap import`, back to back (wall / CPU): at 229,854 domains,
default 48.4 / 53.1 s and 48.9 / 53.8 s, threshold 50,000 39.9 / 44.7 s and
39.8 / 45.0 s, paused 43.5 / 48.0 s and 40.8 / 45.9 s; at 766,974 domains,
paused 159.0 / 175.0 s and 161.1 / 177.9 s, threshold 50,000 167.1 / 184.9 s
(with the older generations' thresholds raised too, 50 and 1,000: 179.6 /
194.6 s). Pausing wins where nothing else runs.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# New container objects between two young collections while an import runs.
IMPORT_THRESHOLD = 50_000

_lock = threading.Lock()
_running = 0
_before: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def cyclic_collection_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (a process that runs only the import)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def fewer_cyclic_collections() -> Iterator[None]:
    """Collect cycles less often while the block runs, in whichever thread.

    Overlapping blocks (two uploads at once) share the raised threshold; the
    last one to end restores what was set before the first began.
    """
    global _running, _before
    with _lock:
        if _running == 0:
            _before = gc.get_threshold()
            gc.set_threshold(max(IMPORT_THRESHOLD, _before[0]), _before[1], _before[2])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_before)
