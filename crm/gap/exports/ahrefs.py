"""Ahrefs exports: Backlinks (current 37 and older 30 columns), Referring domains, Link Intersect.

All three are UTF-16LE with a BOM, TAB-separated, every field quoted.
Backlinks rows are one link each; dofollow means `Nofollow`, `UGC` and
`Sponsored` all false; a link with a `Lost` date or a `Lost status` is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from crm.gap.exports.cells import AUTHORITY, BOOL, COUNT_KIND, PRESENT, URL, Kind
from crm.gap.exports.formats import (
    ExportFormat,
    LinkRule,
    Match,
    col,
    first_text,
    rel_of_flags,
    site_of_column,
)
from crm.gap.exports.model import ExportInfo


class AhrefsBacklinks(ExportFormat):
    id = "ahrefs-backlinks"
    label = "Ahrefs Backlinks"
    has_target = True
    required = {
        "page_url": col("Referring page URL", "Source URL", kind=URL),
        "authority": col("Domain rating", "DR", kind=AUTHORITY),
        "target": col("Target URL", "Link URL"),
    }
    optional = {
        "title": col("Referring page title", "Title"),
        "language": col("Language"),
        "http_code": col("Referring page HTTP code"),
        "page_score": col("UR", "URL rating", kind=AUTHORITY),
        "traffic": col("Domain traffic", kind=COUNT_KIND),
        "anchor": col("Anchor"),
        "spam": col("Is spam", kind=BOOL),
        "nofollow": col("Nofollow", kind=BOOL),
        "ugc": col("UGC", kind=BOOL),
        "sponsored": col("Sponsored", kind=BOOL),
        "lost_status": col("Lost status"),
        "drop_reason": col("Drop reason"),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen", "Last check"),
        "lost": col("Lost"),
        "page_type": col("Page type"),
        "page_category": col("Page category"),
    }
    signature = ("referring page url",)
    link = LinkRule(
        domain="page_url",
        authority="authority",
        traffic="traffic",
        rel=rel_of_flags("nofollow", "ugc", "sponsored"),
        spam="spam",
        lost="lost <> '' OR lost_status <> ''",
        language="language",
        score="page_score",
        target="target",
        page="page_url",
        lost_reason=first_text("lost_status", "drop_reason", default="lost"),
    )

    def variant(self, keys: Sequence[str]) -> str:
        return "current" if "ur" in keys and "is spam" in keys else "older, 30 columns"


class AhrefsRefdomains(ExportFormat):
    id = "ahrefs-refdomains"
    label = "Ahrefs Referring domains"
    required = {
        "domain": col("Domain", "Referring domain", kind=URL),
        "authority": col("DR", "Domain rating", kind=AUTHORITY),
    }
    optional = {
        "spam": col("Is spam", kind=BOOL),
        "traffic": col("Traffic", "Organic traffic", kind=COUNT_KIND),
        "backlinks": col("Links to target", "Total backlinks", "Backlinks", kind=COUNT_KIND),
        "dofollow_links": col("Dofollow links", "Dofollow", kind=COUNT_KIND),
        "first_seen": col("First seen"),
        "lost": col("Lost"),
    }
    signature = (
        "dofollow ref. domains",
        "dofollow linked domains",
        "links to target",
        "ref domains dofollow",
    )
    link = LinkRule(
        domain="domain",
        backlinks="coalesce(backlinks, 1)",
        authority="authority",
        traffic="traffic",
        rel="CASE WHEN dofollow_links > 0 THEN 0 WHEN dofollow_links = 0 THEN 1 ELSE -1 END",
        spam="spam",
        lost="lost <> ''",
    )


class AhrefsIntersect(ExportFormat):
    """Link Intersect: one row per referring page (or domain), one column per site.

    The per-site cells are not documented; a non-empty cell means "links".
    """

    id = "ahrefs-intersect"
    label = "Ahrefs Link Intersect"
    multi_site = True
    site_kind = PRESENT
    required = {
        "intersect": col("Intersect"),
        "authority": col("Domain rating", "DR", kind=AUTHORITY),
    }
    optional = {
        "page_url": col("Referring page URL", kind=URL),
        "domain": col("Domain", "Referring domain", kind=URL),
        "title": col("Referring page title"),
        "language": col("Language"),
        "traffic": col("Domain traffic", kind=COUNT_KIND),
        "page_score": col("UR", kind=AUTHORITY),
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

    def kinds(self, info: ExportInfo) -> dict[str, Kind]:
        kinds = super().kinds(info)
        # Pages mode reads the page's URL; domains mode the domain (the other is not there).
        del kinds["domain" if "page_url" in info.columns else "page_url"]
        return kinds

    def link_rule(self, info: ExportInfo) -> LinkRule:
        by_page = "page_url" in info.columns
        return LinkRule(
            domain="page_url" if by_page else "domain",
            authority="authority",
            traffic="traffic",
            language="language",
            score="page_score",
            page="page_url" if by_page else None,
            site_backlinks="CASE WHEN {site} THEN 1 END",
        )


FORMATS: tuple[ExportFormat, ...] = (AhrefsBacklinks(), AhrefsRefdomains(), AhrefsIntersect())
