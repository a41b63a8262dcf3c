"""The per-(referring domain, site) slots an import's rows are folded into.

This is the hot loop of an import: a few million rows pass through `fold`,
so a slot is a flat list and each row costs a handful of index operations.
`merge` adds up the slots of several files; `facts_of` turns one domain's
slots into its DomainFacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crm.gap.exports.base import EVIDENCE_SEP, EvidenceBuilder, RawLink
from crm.gap.facts import DomainFacts

# A slot per (referring domain, site):
#   [live, lost, authority, traffic, rels seen, spam, language, evidence, targets,
#    weakest evidence rank]
# evidence is a list of (rank, text), sorted only when facts are made; targets a
# list of target ids (URLs once a file is done).
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


def new_slot() -> Slot:
    """Return an empty slot."""
    return [0, 0, -1.0, -1, 0, None, "", None, None, 0.0]


def keep_evidence(slot: Slot, rank: float, text: str, limit: int) -> None:
    """Keep (rank, text) among the slot's best `limit` distinct pages (merging files)."""
    page = text[: text.find(EVIDENCE_SEP)]
    _keep(slot, rank, page, lambda: text, limit)


def _keep(slot: Slot, rank: float, page: str, make: Callable[[], str], limit: int) -> None:
    """Keep the page `page` with this rank; `make()` builds its text only if it is kept.

    The caller has checked that the list is not full or that `rank` beats
    the weakest; a page already kept is only replaced by a better rank.
    The list stays in arrival order and a tie goes to the earlier page, so
    what is kept is exactly the best `limit` pages by (rank, first seen) —
    the rule the columnar engine (crm.gap.columnar) computes in SQL.
    """
    evs = slot[7]
    if evs is None:
        slot[7] = [(rank, make())]
        slot[9] = rank
        return
    end = len(page)
    weakest = 0
    for i, (old_rank, old) in enumerate(evs):
        if old.startswith(page) and old[end : end + 1] == EVIDENCE_SEP:
            if rank > old_rank:
                # The page's best row arrives now: it moves to the end.
                del evs[i]
                evs.append((rank, make()))
                slot[9] = _weakest_rank(evs)
            return
        if old_rank <= evs[weakest][0]:
            weakest = i  # the latest of the weakest goes first
    if len(evs) < limit:
        evs.append((rank, make()))
        if rank < slot[9]:
            slot[9] = rank
        return
    if rank <= slot[9]:
        return
    del evs[weakest]
    evs.append((rank, make()))
    slot[9] = _weakest_rank(evs)


def _weakest_rank(evs: list[tuple[float, str]]) -> float:
    weakest = evs[0][0]
    for rank, _ in evs:
        if rank < weakest:
            weakest = rank
    return weakest


def fold(
    rows: Iterable[RawLink],
    slots: Slots,
    build: EvidenceBuilder,
    target_ids: dict[str, int],
    target_urls: list[str],
    ignored: set[str],
    evidence_limit: int,
    targets_limit: int,
    page_index: int = 0,
) -> None:
    """Fold raw links into the per-(domain, site) slots (targets as ids into target_urls).

    `page_index` is where a row holds its referring page URL (duplicates are
    spotted by it before any evidence text is built).
    """
    get = slots.get
    keep = _keep
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
            slot = per[site] = [0, 0, -1.0, -1, 0, None, "", None, None, 0.0]
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
                slot[9] = rank
            elif len(evs) < evidence_limit or rank > slot[9]:
                keep(slot, rank, row[page_index], lambda: build(row, rel, lost), evidence_limit)  # noqa: B023 - called now
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


def merge(into: Slots, partial: Slots, evidence_limit: int, targets_limit: int) -> None:
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
            for rank, text in slot[7] or ():
                keep_evidence(other, rank, text, evidence_limit)
            if slot[8]:
                targets = other[8] if other[8] is not None else []
                for url in slot[8]:
                    if len(targets) < targets_limit and url not in targets:
                        targets.append(url)
                other[8] = targets


def _rank_key(entry: tuple[float, str]) -> float:
    return entry[0]


def facts_of(domain: str, per: dict[str, Slot]) -> DomainFacts:
    backlinks = {}
    lost = {}
    evidence = {}
    targets = {}
    authority = -1.0
    traffic = -1
    rels = 0
    spam = None
    language = ""
    for site, (live, gone, best, visits, seen, flagged, lang, evs, urls, _) in per.items():
        if live:
            backlinks[site] = live
        if gone:
            lost[site] = gone
        if evs:
            # Best first; text until DomainFacts.evidence builds them on access.
            evidence[site] = tuple(sorted(evs, key=_rank_key, reverse=True))
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
