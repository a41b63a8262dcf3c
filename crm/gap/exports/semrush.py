"""Semrush exports: Backlinks (current and older), Referring Domains, Backlink Gap.

UTF-8 without BOM, comma (Referring Domains is sometimes saved with `;`),
minimal quoting. Semrush Backlinks carries only a page-level score
(`Page ascore`, older `Page score`); it stands in for the referring domain's
authority (the best page seen), the closest the export offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import product
from operator import itemgetter

from crm.gap.exports.base import (
    EVIDENCE_DOFOLLOW,
    EVIDENCE_LIVE,
    EVIDENCE_SCORE_STEP,
    Cells,
    DomainFolder,
    ExportFormat,
    Match,
    RawLink,
    col,
    domain_cell,
    evidence_rank,
    rel_bits,
    site_of_column,
)
from crm.gap.exports.model import REL_UNKNOWN, ExportInfo
from crm.gap.exports.records import CsvRecords, Records
from crm.gap.exports.values import (
    FAST_BOOLS,
    parse_authority,
    parse_bool,
    parse_count,
)

# rel bits by the exact (Nofollow, Sponsored, Ugc) cells; "" as the careful path reads it.
_FAST_REL = {
    (nf, sp, ugc): rel_bits(parse_bool(nf), parse_bool(ugc), parse_bool(sp))
    for nf, sp, ugc in product(("true", "false", ""), repeat=3)
}


class SemrushBacklinks(ExportFormat):
    id = "semrush-backlinks"
    label = "Semrush Backlinks"
    has_target = True
    required = {
        "page_url": col("Source url"),
        "target": col("Target url"),
        "authority": col("Page ascore", "Page score", "Page AS", kind="authority"),
    }
    optional = {
        "title": col("Source title"),
        "anchor": col("Anchor"),
        "nofollow": col("Nofollow", kind="bool"),
        "sponsored": col("Sponsored", kind="bool"),
        "ugc": col("Ugc", kind="bool"),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen"),
        "lost": col("Lost link", kind="bool"),
    }
    signature = ("source url",)
    fast_columns = ("nofollow",)

    def variant(self, keys: Sequence[str]) -> str:
        return "older" if "page score" in keys else ""

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        domain = cells.get("page_url", domain_cell(folder))
        authority = cells.get("authority", parse_authority)
        if cells.has("nofollow"):
            rel = rel_bits(
                cells.get("nofollow", parse_bool),
                cells.get("ugc", parse_bool),
                cells.get("sponsored", parse_bool),
            )
        else:
            rel = REL_UNKNOWN
        lost = bool(cells.get("lost", parse_bool))
        rank = evidence_rank(authority, rel, lost)
        return (
            (
                domain,
                info.owners[0],
                1,
                authority,
                None,
                rel,
                None,
                lost,
                "",
                rank,
                cells.raw("target"),
                cells.parts,
            ),
        )

    def links(
        self, info: ExportInfo, records: Records | CsvRecords, folder: DomainFolder
    ) -> Iterator[RawLink]:
        columns = info.columns
        if not self.has_fast_columns(info):
            yield from self.careful_links(info, records, folder)
            return
        width = len(info.header)
        get = itemgetter(
            *(
                columns.get(n, width)
                for n in (
                    "page_url",
                    "authority",
                    "target",
                    "nofollow",
                    "sponsored",
                    "ugc",
                    "lost",
                )
            )
        )
        site = info.owners[0]
        cache = folder.cache
        miss = folder.miss
        fast_rel = _FAST_REL
        bools = FAST_BOOLS
        dofollow_rank = EVIDENCE_DOFOLLOW
        live_rank = EVIDENCE_LIVE
        step = EVIDENCE_SCORE_STEP
        k = -1
        for k, row in enumerate(records):
            row.append("")
            try:
                url, score, target, nofollow, sponsored, ugc, lost_cell = get(row)
                cut = url.find("/", 8)
                key = url[:cut] if cut > 0 else url
                domain = cache.get(key) or miss(key)
                authority = float(score) if score else None
                if authority is not None and not 0.0 <= authority <= 100.0:
                    raise ValueError(score)
                rel = fast_rel[nofollow, sponsored, ugc]
                lost = bools[lost_cell]
            except (ValueError, KeyError):
                yield from self.row_error(info, records, k, row, folder)
                continue
            rank = (authority // step) * step if authority else 0.0
            if rel == 0:
                rank += dofollow_rank
            if lost:
                yield (domain, site, 1, authority, None, rel, None, True, "", rank, target, row)
            else:
                yield (
                    domain,
                    site,
                    1,
                    authority,
                    None,
                    rel,
                    None,
                    False,
                    "",
                    rank + live_rank,
                    target,
                    row,
                )


class SemrushRefdomains(ExportFormat):
    id = "semrush-refdomains"
    label = "Semrush Referring Domains"
    required = {
        "domain": col("Domain", "Root domain"),
        "authority": col("Domain ascore", "Authority Score", "Domain AS", kind="authority"),
    }
    optional = {
        "backlinks": col("Backlinks", kind="count"),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen"),
    }
    signature = ("backlinks", "ip address", "ip", "country")

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        backlinks = cells.get("backlinks", parse_count)
        return (
            (
                cells.get("domain", domain_cell(folder)),
                info.owners[0],
                backlinks if backlinks is not None else 1,
                cells.get("authority", parse_authority),
                None,
                REL_UNKNOWN,
                None,
                False,
                "",
                0.0,
                "",
                None,
            ),
        )


class SemrushGap(ExportFormat):
    """Backlink Gap: one row per referring domain, one backlink-count column per site."""

    id = "semrush-gap"
    label = "Semrush Backlink Gap"
    multi_site = True
    required = {
        "domain": col("Domain", "Referring domain"),
        "authority": col("Domain ascore", "Authority Score", "Domain AS", kind="authority"),
    }

    def match(self, header: Sequence[str], keys: Sequence[str]) -> Match | None:
        found = super().match(header, keys)
        if found is None:
            return None
        sites = tuple(
            (site, i)
            for i, name in enumerate(header)
            if i not in found.columns.values() and (site := site_of_column(name)) is not None
        )
        if len(sites) < 2:
            return None
        return Match(self, found.columns, sites, "", found.score + len(sites))

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        domain = cells.get("domain", domain_cell(folder))
        authority = cells.get("authority", parse_authority)
        out = []
        for site, index in info.site_columns:
            count = cells.at(index, parse_count)
            if count:
                out.append(
                    (
                        domain,
                        site,
                        count,
                        authority,
                        None,
                        REL_UNKNOWN,
                        None,
                        False,
                        "",
                        0.0,
                        "",
                        None,
                    )
                )
        return out


FORMATS: tuple[ExportFormat, ...] = (SemrushBacklinks(), SemrushRefdomains(), SemrushGap())
