"""The per-(referring domain, site) slots an import's rows are folded into.

This is the hot loop of an import: a few million rows pass through `fold`,
so a slot is a flat list and each row costs a handful of index operations.
`merge` adds up the slots of several files; `facts_of` turns one domain's
slots into its DomainFacts.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.gap.exports.base import EVIDENCE_SEP, EvidenceBuilder, RawLink
from crm.gap.facts import DomainFacts

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


def add_evidence(evs: list, rank: float, text: str, limit: int) -> None:
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


def fold(
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
    add = add_evidence
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
                add(evs, rank, build(row, rel, lost), evidence_limit)
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
            if slot[7]:
                if other[7] is None:
                    other[7] = []
                for rank, text in slot[7]:
                    add_evidence(other[7], rank, text, evidence_limit)
            if slot[8]:
                targets = other[8] if other[8] is not None else []
                for url in slot[8]:
                    if len(targets) < targets_limit and url not in targets:
                        targets.append(url)
                other[8] = targets


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
