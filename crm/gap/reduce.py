"""Reduce every export of one import to per-referring-domain facts.

Rows stream through and are folded into one small slot per (referring
domain, site) as they go; nothing holds a file's rows. Memory stays bounded
by keeping, per slot, only the best few evidence pages (followed, live,
highest page score first, as one compact string each) and a capped list of
the target URLs linked. Every file is read to the end before anything is
returned, so a bad file fails the whole import and the caller writes nothing.

Large imports read their files in parallel worker processes (one per CPU,
spawned, so a web or worker process with open connections is never forked);
each returns its slots and the parent merges them.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context

from crm.gap.exports import FORMAT_BY_ID, ExportError, ExportInfo, ReadStats, iter_raw_links
from crm.gap.exports.base import EVIDENCE_SEP, DomainFolder, EvidenceBuilder, RawLink
from crm.gap.facts import DomainFacts, FileSummary, Reduction

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

# A slot per (referring domain, site):
#   [live, lost, authority, traffic, rels seen, spam, language, evidence, targets]
# evidence is a best-first list of (rank, text); targets a list of URLs.
# Domain-level facts are merged from the slots at the end; a flat list keeps
# the per-row work to a few index operations.
Slot = list
Slots = dict[str, dict[str, Slot]]

_SEEN_UNKNOWN = 1
_SEEN_DOFOLLOW = 1 << 1


def _seen_bit(rel: int) -> int:
    return 1 << (rel + 1)


# LinkRow.rel (-1 unknown .. 7) -> its bit in the "rels seen" mask; index -1 is unknown.
_REL_BITS = (*(_seen_bit(r) for r in range(8)), _SEEN_UNKNOWN)
# rel combinations that are neither sponsored nor UGC (nofollow alone counts).
_EDITORIAL_MASK = sum(_seen_bit(r) for r in range(8) if not r & 0b110)


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
    if len(infos) < 2 or sum(i.size for i in infos) < PARALLEL_MIN_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, len(infos)))


def reduce_exports(
    infos: Sequence[ExportInfo],
    *,
    site: str | None = None,
    competitors: Sequence[str] = (),
    evidence_per_site: int = EVIDENCE_PER_SITE,
    targets_per_site: int = TARGETS_PER_SITE,
    workers: int | None = None,
) -> Reduction:
    """Read every export fully and fold them into per-domain facts.

    With `site`, single-site exports of other domains are refused and the
    columns of multi-site exports that are not in the campaign are ignored
    (listed in the file summary). `workers` is how many processes read files
    (default: one per CPU for large imports, else 1). Raises ExportError for
    the first bad file, in the order given.
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
    if count > 1 and len(jobs) > 1:
        partials = _in_workers(jobs, count)
    else:
        folder = DomainFolder()
        partials = [_read_file(info, ignored, limits, folder) for info, ignored, limits in jobs]

    slots: Slots = {}
    with _collector_paused():
        for partial, _ in partials:
            _merge(slots, partial, evidence_per_site, targets_per_site)
        facts = {domain: _facts(domain, per) for domain, per in slots.items()}
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
        for info, ignored, (_, stats) in zip(infos, ignored_by_file, partials, strict=True)
    )
    return Reduction(facts=facts, sites=tuple(sites), files=summaries)


def _in_workers(
    jobs: list[tuple[ExportInfo, tuple[str, ...], tuple[int, int]]], count: int
) -> list[tuple[Slots, ReadStats]]:
    """Read files in worker processes, largest first; raise the first file's error in order.

    Where processes cannot be started (a restricted host, a __main__ that
    cannot be re-imported), the files are read here instead.
    """
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].size)
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool:
            futures = {i: pool.submit(_read_file_job, *jobs[i]) for i in order}
            return [futures[i].result() for i in range(len(jobs))]
    except (BrokenProcessPool, OSError):
        folder = DomainFolder()
        return [_read_file(info, ignored, limits, folder) for info, ignored, limits in jobs]


def _read_file_job(
    info: ExportInfo, ignored: tuple[str, ...], limits: tuple[int, int]
) -> tuple[Slots, ReadStats]:
    """Worker-process entry point (module-level so it can be pickled)."""
    return _read_file(info, ignored, limits, DomainFolder())


def _read_file(
    info: ExportInfo, ignored: tuple[str, ...], limits: tuple[int, int], folder: DomainFolder
) -> tuple[Slots, ReadStats]:
    """Fold one file into fresh slots; targets come back as URL strings."""
    stats = ReadStats()
    slots: Slots = {}
    target_urls: list[str] = []
    build = FORMAT_BY_ID[info.format_id].evidence_builder(info)
    with _collector_paused():
        _fold(
            iter_raw_links(info, folder, stats),
            slots,
            build,
            {},
            target_urls,
            set(ignored),
            *limits,
        )
        for per in slots.values():
            for slot in per.values():
                if slot[8] is not None:
                    slot[8] = [target_urls[i] for i in slot[8]]
    return slots, stats


def _add_evidence(evs: list, rank: float, text: str, limit: int) -> None:
    """Insert (rank, text) into a best-first list of at most `limit` distinct pages."""
    page = text[: text.find(EVIDENCE_SEP) + 1]
    for _, old in evs:
        if old.startswith(page):
            return
    at = len(evs)
    while at and evs[at - 1][0] < rank:
        at -= 1
    evs.insert(at, (rank, text))
    if len(evs) > limit:
        evs.pop()


def _fold(
    rows: Iterable[RawLink],
    slots: Slots,
    build: EvidenceBuilder,
    target_ids: dict[str, int],
    target_urls: list[str],
    ignored: set[str],
    evidence_limit: int,
    targets_limit: int,
) -> None:
    """Fold raw links into the per-(domain, site) slots (targets as ids into target_urls)."""
    get = slots.get
    add_evidence = _add_evidence
    rel_bits = _REL_BITS
    for (
        domain,
        site,
        count,
        authority,
        traffic,
        rel,
        spam,
        lost,
        language,
        rank,
        target,
        row,
    ) in rows:
        if ignored and site in ignored:
            continue
        per = get(domain)
        if per is None:
            per = slots[domain] = {}
        slot = per.get(site)
        if slot is None:
            slot = per[site] = [0, 0, -1.0, -1, 0, None, "", None, None]
        if lost:
            slot[1] += count
        else:
            slot[0] += count
        if authority is not None and authority > slot[2]:
            slot[2] = authority
        if traffic is not None and traffic > slot[3]:
            slot[3] = traffic
        slot[4] |= rel_bits[rel]
        if spam is not None and not slot[5]:
            slot[5] = spam
        if language and not slot[6]:
            slot[6] = language
        if row is not None:
            evs = slot[7]
            if evs is None:
                slot[7] = [(rank, build(row, rel, lost))]
            elif len(evs) < evidence_limit or rank > evs[-1][0]:
                add_evidence(evs, rank, build(row, rel, lost), evidence_limit)
        if target:
            ids = slot[8]
            if ids is None or len(ids) < targets_limit:
                # Ids share one string per distinct target URL across all slots.
                tid = target_ids.get(target)
                if tid is None:
                    tid = target_ids[target] = len(target_urls)
                    target_urls.append(target)
                if ids is None:
                    slot[8] = [tid]
                elif tid not in ids:
                    ids.append(tid)


def _merge(into: Slots, partial: Slots, evidence_limit: int, targets_limit: int) -> None:
    """Merge one file's slots into the import's (two files of one site share slots)."""
    for domain, per in partial.items():
        mine = into.get(domain)
        if mine is None:
            into[domain] = per
            continue
        for site, slot in per.items():
            other = mine.get(site)
            if other is None:
                mine[site] = slot
                continue
            other[0] += slot[0]
            other[1] += slot[1]
            other[2] = max(other[2], slot[2])
            other[3] = max(other[3], slot[3])
            other[4] |= slot[4]
            if slot[5] is not None and not other[5]:
                other[5] = slot[5]
            other[6] = other[6] or slot[6]
            if slot[7]:
                if other[7] is None:
                    other[7] = []
                for rank, text in slot[7]:
                    _add_evidence(other[7], rank, text, evidence_limit)
            if slot[8]:
                targets = other[8] if other[8] is not None else []
                for url in slot[8]:
                    if len(targets) < targets_limit and url not in targets:
                        targets.append(url)
                other[8] = targets


def _facts(domain: str, per: dict[str, Slot]) -> DomainFacts:
    backlinks = {}
    lost = {}
    evidence = {}
    targets = {}
    authority = -1.0
    traffic = -1
    rels = 0
    spam = None
    language = ""
    for site, (live, gone, best, visits, seen, flagged, lang, evs, urls) in per.items():
        if live:
            backlinks[site] = live
        if gone:
            lost[site] = gone
        if evs:
            evidence[site] = tuple(evs)  # text: DomainFacts.evidence builds them on access
        if urls:
            targets[site] = tuple(urls)
        authority = max(authority, best)
        traffic = max(traffic, visits)
        rels |= seen
        if flagged is not None and not spam:
            spam = flagged
        language = language or lang
    known = rels & ~_SEEN_UNKNOWN
    return DomainFacts(
        domain,
        backlinks=backlinks,
        lost=lost,
        authority=authority if authority >= 0 else None,
        traffic=traffic if traffic >= 0 else None,
        dofollow=bool(rels & _SEEN_DOFOLLOW) if known else None,
        paid_or_ugc_only=bool(known) and not known & _EDITORIAL_MASK,
        spam=spam,
        language=language or None,
        evidence=evidence,
        targets=targets,
    )
