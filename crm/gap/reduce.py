"""Reduce every export of one import to per-referring-domain facts.

Rows stream through and are folded into one small slot per (referring
domain, site) as they go; nothing holds a file's rows. Memory stays bounded
by keeping, per slot, only the best few evidence pages (live, followed,
highest page score first, as one compact string each) and a capped list of
the target URLs linked. Every file is read to the end before anything is
returned, so a bad file fails the whole import and the caller writes nothing.

Large page-level exports (Ahrefs and Semrush Backlinks, 32 MB and up in all)
go through DuckDB instead (crm.gap.columnar: same rules, same facts, in C++
on every core); a file it does not take at face value sends them all back
here, where the streaming readers find the exact line and column. Other large
imports on machines with 4+ CPUs read their files in worker processes
(spawned, so a web or worker process with open connections is never forked);
each returns its slots and the parent merges them as they arrive.
"""

from __future__ import annotations

import gc
import marshal
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

from crm.gap import columnar
from crm.gap.exports import FORMAT_BY_ID, ExportError, ExportInfo, ReadStats, iter_raw_links
from crm.gap.exports.base import DomainFolder
from crm.gap.facts import DomainFacts, FileSummary, Reduction
from crm.gap.slots import Slots, facts_of, fold, merge

# The result types live in crm.gap.facts; importing them from here keeps working.
__all__ = [
    "EVIDENCE_PER_SITE",
    "TARGETS_PER_SITE",
    "DomainFacts",
    "FileSummary",
    "Reduction",
    "check_owners",
    "reduce_exports",
]

EVIDENCE_PER_SITE = 5
TARGETS_PER_SITE = 20
# Below this many bytes in all files, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 48 << 20
PARALLEL_MIN_CPUS = 4
# Below this many bytes of page-level exports, starting DuckDB costs more than it saves.
COLUMNAR_MIN_BYTES = 32 << 20
# How often the parent reports the workers' progress.
PROGRESS_SECONDS = 0.5


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic GC: millions of small long-lived containers and no cycles.

    Left on, it rescans every slot over and over as they accumulate.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def check_owners(infos: Iterable[ExportInfo], site: str, competitors: Sequence[str]) -> None:
    """Refuse a single-site export whose owner is not in the campaign (ExportError)."""
    allowed = {site, *competitors}
    names = ", ".join(competitors) or "none"
    for info in infos:
        if info.multi_site:
            if not allowed & set(info.owners):
                raise ExportError(
                    info.display_name,
                    None,
                    None,
                    f"this export compares {', '.join(info.owners)}, none of which "
                    f"is the campaign's site ({site}) or one of its competitors "
                    f"({names})",
                )
            continue
        for owner in info.owners:
            if owner not in allowed:
                raise ExportError(
                    info.display_name,
                    None,
                    None,
                    f"this export is for {owner}, which is neither the campaign's "
                    f"site ({site}) nor one of its competitors ({names})",
                )


def _auto_workers(infos: Sequence[ExportInfo]) -> int:
    """Worker processes for an import: only for large ones on machines with CPUs to spare.

    Each worker reads cold (its own domain cache) and sends its slots back,
    which costs about 40% more CPU and its slots' memory; on two CPUs shared
    with a web server and a database that does not pay (measured), so
    workers start from 4 CPUs, leaving one for everything else.
    """
    if len(infos) < 2 or sum(i.size for i in infos) < PARALLEL_MIN_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    if cpus < PARALLEL_MIN_CPUS:
        return 1
    return min(cpus - 1, len(infos))


def reduce_exports(
    infos: Sequence[ExportInfo],
    *,
    site: str | None = None,
    competitors: Sequence[str] = (),
    evidence_per_site: int = EVIDENCE_PER_SITE,
    targets_per_site: int = TARGETS_PER_SITE,
    workers: int | None = None,
    engine: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
) -> Reduction:
    """Read every export fully and fold them into per-domain facts.

    With `site`, single-site exports of other domains are refused and the
    columns of multi-site exports that are not in the campaign are ignored
    (listed in the file summary). `workers` is how many processes read files
    (default: CPUs - 1 for large imports on 4+ CPUs, else 1). `on_progress(done,
    total)` is called with the bytes read so far, about every megabyte
    (every half second with workers). `engine` is "auto" (DuckDB for large
    page-level exports), "columnar" (DuckDB for every file it can read) or
    "streaming" (never DuckDB). Raises ExportError for the first bad file, in
    the order given.
    """
    ignored_by_file: list[tuple[str, ...]] = []
    allowed = {site, *competitors} if site is not None else None
    if site is not None:
        check_owners(infos, site, competitors)
    for info in infos:
        ignored: tuple[str, ...] = ()
        if allowed is not None and info.multi_site:
            ignored = tuple(s for s in info.owners if s not in allowed)
        ignored_by_file.append(ignored)
    limits = (evidence_per_site, targets_per_site)
    jobs = list(zip(infos, ignored_by_file, [limits] * len(infos), strict=True))
    count = workers if workers is not None else _auto_workers(infos)
    progress = _Progress(on_progress, sum(info.size for info in infos))
    with _collector_paused():
        slots, stats_by_file = _read_all(jobs, count, progress, engine)
        progress.finish()
        # Popping as we go: the slots and the facts are never both whole in memory.
        facts = {}
        while slots:
            domain, per = slots.popitem()
            facts[domain] = facts_of(domain, per)
    sites: dict[str, None] = {}
    for info, ignored in zip(infos, ignored_by_file, strict=True):
        for owner in info.owners:
            if owner not in ignored:
                sites.setdefault(owner)
    linking = dict.fromkeys(sites, 0)
    for fact in facts.values():
        for linked in fact.backlinks:
            if linked in linking:
                linking[linked] += 1
    summaries = tuple(
        FileSummary(
            display_name=info.display_name,
            format_id=info.format_id,
            label=info.label,
            owners=info.owners,
            records=stats.records,
            skipped=stats.skipped,
            skipped_lines=tuple(stats.skipped_lines),
            domains=sum(linking.get(o, 0) for o in info.owners if o not in ignored),
            ignored_sites=ignored,
        )
        for info, ignored, stats in zip(infos, ignored_by_file, stats_by_file, strict=True)
    )
    return Reduction(facts=facts, sites=tuple(sites), files=summaries)


def _read_all(
    jobs: list[Job], count: int, progress: _Progress, engine: str
) -> tuple[Slots, list[ReadStats]]:
    """Read page-level exports with DuckDB where it pays, the rest streaming; merge."""
    chosen = _columnar_jobs(jobs, engine)
    result = None
    if chosen:
        evidence_limit, targets_limit = jobs[0][2]
        start = progress.done
        result = columnar.reduce_columnar(
            [jobs[i][0] for i in chosen], evidence_limit, targets_limit, progress.add
        )
        if result is None:
            progress.set(start)  # the streaming readers count these bytes again
    if result is None:
        return _streaming(jobs, count, progress)
    stats: dict[int, ReadStats] = dict(zip(chosen, result.stats, strict=True))
    rest = [i for i in range(len(jobs)) if i not in stats]
    slots = result.slots
    if rest:
        partial, rest_stats = _streaming([jobs[i] for i in rest], count, progress)
        merge(slots, partial, *jobs[0][2])
        stats.update(zip(rest, rest_stats, strict=True))
    return slots, [stats[i] for i in range(len(jobs))]


def _columnar_jobs(jobs: list[Job], engine: str) -> list[int]:
    """Return the indexes of the files DuckDB should read (none when it would not pay)."""
    if engine == "streaming" or not columnar.available():
        return []
    chosen = [
        i for i, (info, ignored, _) in enumerate(jobs) if not ignored and columnar.can_read(info)
    ]
    if engine == "auto" and sum(jobs[i][0].size for i in chosen) < COLUMNAR_MIN_BYTES:
        return []
    return chosen


def _streaming(jobs: list[Job], count: int, progress: _Progress) -> tuple[Slots, list[ReadStats]]:
    if count > 1 and len(jobs) > 1:
        return _in_workers(jobs, count, progress)
    return _in_process(jobs, progress)


class _Progress:
    """Add up the bytes read and tell the caller."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.callback is not None:
            self.callback(min(self.done, self.total), self.total)

    def set(self, done: int) -> None:
        self.done = done
        self.add(0)

    def finish(self) -> None:
        self.set(self.total)


Job = tuple[ExportInfo, tuple[str, ...], tuple[int, int]]


def _in_process(jobs: list[Job], progress: _Progress) -> tuple[Slots, list[ReadStats]]:
    """Read the files here, one after another, into one set of slots."""
    folder = DomainFolder()
    on_read = progress.add if progress.callback is not None else None
    slots: Slots = {}
    target_urls: list[str] = []
    target_ids: dict[str, int] = {}
    stats = [
        _read_file(info, ignored, limits, folder, slots, target_ids, target_urls, on_read)
        for info, ignored, limits in jobs
    ]
    _targets_as_urls(slots, target_urls)
    return slots, stats


# In a worker process: the bytes read per job, shared with the parent for progress.
_worker_counts: Any = None


def _init_worker(counts: Any) -> None:
    global _worker_counts
    _worker_counts = counts


def _in_workers(jobs: list[Job], count: int, progress: _Progress) -> tuple[Slots, list[ReadStats]]:
    """Read files in worker processes, largest first, merging each as it comes back.

    A bad file fails the import with the error of the first bad file in the
    order given. Where processes cannot be started (a restricted host, a
    __main__ that cannot be re-imported), the files are read here instead.
    """
    evidence_limit, targets_limit = jobs[0][2]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].size)
    context = get_context("spawn")
    counts = context.Array("q", len(jobs), lock=False)
    slots: Slots = {}
    stats: dict[int, ReadStats] = {}
    errors: dict[int, BaseException] = {}
    try:
        with ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_init_worker, initargs=(counts,)
        ) as pool:
            futures = {pool.submit(_read_file_job, i, *jobs[i]): i for i in order}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_SECONDS)
                progress.set(sum(counts))
                for future in done:
                    index = futures[future]
                    error = future.exception()
                    if error is not None:
                        errors[index] = error
                    elif not errors:
                        payload, (records, skipped, lines) = future.result()
                        merge(slots, marshal.loads(payload), evidence_limit, targets_limit)
                        stats[index] = ReadStats(records, skipped, list(lines))
    except (BrokenProcessPool, OSError):
        return _in_process(jobs, progress)
    if errors:
        raise errors[min(errors)]
    return slots, [stats[i] for i in range(len(jobs))]


def _read_file_job(
    index: int, info: ExportInfo, ignored: tuple[str, ...], limits: tuple[int, int]
) -> tuple[bytes, tuple[int, int, list[int]]]:
    """Worker-process entry point: one file's slots, targets as URLs (module-level: picklable).

    The slots travel as marshal bytes: plain lists, dicts, strings and
    numbers from this same interpreter, decoded twice as fast as a pickle.
    """
    counts = _worker_counts

    def on_read(size: int) -> None:
        counts[index] += size

    slots: Slots = {}
    target_urls: list[str] = []
    with _collector_paused():
        stats = _read_file(
            info,
            ignored,
            limits,
            DomainFolder(),
            slots,
            {},
            target_urls,
            on_read if counts is not None else None,
        )
        _targets_as_urls(slots, target_urls)
        payload = marshal.dumps(slots)
    return payload, (stats.records, stats.skipped, stats.skipped_lines)


def _read_file(
    info: ExportInfo,
    ignored: tuple[str, ...],
    limits: tuple[int, int],
    folder: DomainFolder,
    slots: Slots,
    target_ids: dict[str, int],
    target_urls: list[str],
    on_read: Callable[[int], None] | None = None,
) -> ReadStats:
    """Fold one file into the slots (targets as ids into target_urls)."""
    stats = ReadStats()
    build = FORMAT_BY_ID[info.format_id].evidence_builder(info)
    fold(
        iter_raw_links(info, folder, stats, on_read),
        slots,
        build,
        target_ids,
        target_urls,
        set(ignored),
        *limits,
        page_index=info.columns.get("page_url", 0),
    )
    return stats


def _targets_as_urls(slots: Slots, target_urls: list[str]) -> None:
    for per in slots.values():
        for slot in per.values():
            if slot[8] is not None:
                slot[8] = [target_urls[i] for i in slot[8]]
