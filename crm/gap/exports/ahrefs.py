"""Ahrefs exports: Backlinks (current 37 and older 30 columns), Referring domains, Link Intersect.

All three are UTF-16LE with a BOM, TAB-separated, every field quoted.
Backlinks rows are one link each; dofollow means `Nofollow`, `UGC` and
`Sponsored` all false; a link with a `Lost` date or a `Lost status` is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
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
from crm.gap.exports.model import NOFOLLOW, REL_UNKNOWN, ExportInfo
from crm.gap.exports.records import CsvRecords, Records
from crm.gap.exports.values import (
    FAST_BOOLS,
    parse_authority,
    parse_bool,
    parse_count,
    parse_number,
)

# rel bits by the exact (Nofollow, UGC, Sponsored) cells, as the careful path reads them.
_FAST_REL = {
    (nf, ugc, sp): rel_bits(parse_bool(nf), parse_bool(ugc), parse_bool(sp))
    for nf, ugc, sp in product(("true", "false", ""), repeat=3)
}


class AhrefsBacklinks(ExportFormat):
    id = "ahrefs-backlinks"
    label = "Ahrefs Backlinks"
    has_target = True
    required = {
        "page_url": col("Referring page URL", "Source URL"),
        "authority": col("Domain rating", "DR", kind="authority"),
        "target": col("Target URL", "Link URL"),
    }
    optional = {
        "title": col("Referring page title", "Title"),
        "language": col("Language"),
        "http_code": col("Referring page HTTP code"),
        "page_score": col("UR", "URL rating", kind="number"),
        "traffic": col("Domain traffic", kind="count"),
        "anchor": col("Anchor"),
        "spam": col("Is spam", kind="bool"),
        "nofollow": col("Nofollow", kind="bool"),
        "ugc": col("UGC", kind="bool"),
        "sponsored": col("Sponsored", kind="bool"),
        "lost_status": col("Lost status"),
        "drop_reason": col("Drop reason"),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen", "Last check"),
        "lost": col("Lost"),
        "page_type": col("Page type"),
        "page_category": col("Page category"),
    }
    signature = ("referring page url",)
    fast_columns = ("nofollow", "ugc", "sponsored")

    def variant(self, keys: Sequence[str]) -> str:
        return "current" if "ur" in keys and "is spam" in keys else "older, 30 columns"

    def lost_text(self, info: ExportInfo) -> Callable[[list[str]], str]:
        width = len(info.header)
        get = itemgetter(*(info.columns.get(n, width) for n in ("lost_status", "drop_reason")))

        def text(row: list[str]) -> str:
            status, reason = get(row)
            return status or reason or "lost"

        return text

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        domain = cells.get("page_url", domain_cell(folder))
        authority = cells.get("authority", parse_authority)
        traffic = cells.get("traffic", parse_count)
        if cells.has("nofollow"):
            rel = rel_bits(
                cells.get("nofollow", parse_bool),
                cells.get("ugc", parse_bool),
                cells.get("sponsored", parse_bool),
            )
        else:
            rel = REL_UNKNOWN
        spam = cells.get("spam", parse_bool)
        lost = bool(cells.raw("lost") or cells.raw("lost_status"))
        score = cells.get("page_score", parse_number) or 0.0
        return (
            (
                domain,
                info.owners[0],
                1,
                authority,
                traffic,
                rel,
                spam,
                lost,
                cells.raw("language"),
                evidence_rank(score, rel, lost),
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
                    "traffic",
                    "target",
                    "nofollow",
                    "ugc",
                    "sponsored",
                    "spam",
                    "lost",
                    "lost_status",
                    "language",
                    "page_score",
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
            # Absent optional columns point one past the end, at this "".
            row.append("")
            try:
                (
                    url,
                    dr,
                    traffic,
                    target,
                    nofollow,
                    ugc,
                    sponsored,
                    spam,
                    lost_date,
                    lost_status,
                    language,
                    score,
                ) = get(row)
                cut = url.find("/", 8)
                key = url[:cut] if cut > 0 else url
                domain = cache.get(key) or miss(key)
                authority = float(dr) if dr else None
                if authority is not None and not 0.0 <= authority <= 100.0:
                    raise ValueError(dr)
                visits = int(traffic) if traffic else None
                if visits is not None and visits < 0:
                    raise ValueError(traffic)
                rel = fast_rel[nofollow, ugc, sponsored]
                is_spam = bools[spam]
                rank = (float(score) // step) * step if score else 0.0
            except (ValueError, KeyError):
                yield from self.row_error(info, records, k, row, folder)
                continue
            lost = bool(lost_date or lost_status)
            if rel == 0:
                rank += dofollow_rank
            if not lost:
                rank += live_rank
            yield (
                domain,
                site,
                1,
                authority,
                visits,
                rel,
                is_spam,
                lost,
                language,
                rank,
                target,
                row,
            )


class AhrefsRefdomains(ExportFormat):
    id = "ahrefs-refdomains"
    label = "Ahrefs Referring domains"
    required = {
        "domain": col("Domain", "Referring domain"),
        "authority": col("DR", "Domain rating", kind="authority"),
    }
    optional = {
        "spam": col("Is spam", kind="bool"),
        "traffic": col("Traffic", "Organic traffic", kind="count"),
        "backlinks": col("Links to target", "Total backlinks", "Backlinks", kind="count"),
        "dofollow_links": col("Dofollow links", "Dofollow", kind="count"),
        "first_seen": col("First seen"),
        "lost": col("Lost"),
    }
    signature = (
        "dofollow ref. domains",
        "dofollow linked domains",
        "links to target",
        "ref domains dofollow",
    )

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        domain = cells.get("domain", domain_cell(folder))
        backlinks = cells.get("backlinks", parse_count)
        dofollow_links = cells.get("dofollow_links", parse_count)
        if dofollow_links is None:
            rel = REL_UNKNOWN
        else:
            rel = 0 if dofollow_links > 0 else NOFOLLOW
        return (
            (
                domain,
                info.owners[0],
                backlinks if backlinks is not None else 1,
                cells.get("authority", parse_authority),
                cells.get("traffic", parse_count),
                rel,
                cells.get("spam", parse_bool),
                bool(cells.raw("lost")),
                "",
                0.0,
                "",
                None,
            ),
        )


class AhrefsIntersect(ExportFormat):
    """Link Intersect: one row per referring page (or domain), one column per site.

    The per-site cells are not documented; a non-empty cell means "links".
    """

    id = "ahrefs-intersect"
    label = "Ahrefs Link Intersect"
    multi_site = True
    required = {
        "intersect": col("Intersect"),
        "authority": col("Domain rating", "DR", kind="authority"),
    }
    optional = {
        "page_url": col("Referring page URL"),
        "domain": col("Domain", "Referring domain"),
        "title": col("Referring page title"),
        "language": col("Language"),
        "traffic": col("Domain traffic", kind="count"),
        "page_score": col("UR", kind="number"),
    }

    def match(self, header: Sequence[str], keys: Sequence[str]) -> Match | None:
        found = super().match(header, keys)
        if found is None or not ("page_url" in found.columns or "domain" in found.columns):
            return None
        after = found.columns["intersect"]
        sites = tuple(
            (site, i)
            for i, name in enumerate(header)
            if i > after and (site := site_of_column(name)) is not None
        )
        if not sites:
            return None
        mode = "pages" if "page_url" in found.columns else "domains"
        return Match(self, found.columns, sites, mode, found.score + len(sites))

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        by_page = cells.has("page_url")
        domain = cells.get("page_url" if by_page else "domain", domain_cell(folder))
        authority = cells.get("authority", parse_authority)
        traffic = cells.get("traffic", parse_count)
        language = cells.raw("language")
        rank = evidence_rank(cells.get("page_score", parse_number), REL_UNKNOWN, False)
        row = cells.parts if by_page else None
        out = []
        for site, index in info.site_columns:
            if cells.parts[index].strip():
                out.append(
                    (
                        domain,
                        site,
                        1,
                        authority,
                        traffic,
                        REL_UNKNOWN,
                        None,
                        False,
                        language,
                        rank,
                        "",
                        row,
                    )
                )
        return out


FORMATS: tuple[ExportFormat, ...] = (AhrefsBacklinks(), AhrefsRefdomains(), AhrefsIntersect())
