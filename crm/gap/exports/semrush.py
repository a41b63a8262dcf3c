"""Semrush exports: Backlinks (current and older), Referring Domains, Backlink Gap.

UTF-8 without BOM, comma (Referring Domains is sometimes saved with `;`),
minimal quoting. Semrush Backlinks carries only a page-level score
(`Page ascore`, older `Page score`); it stands in for the referring domain's
authority (the best page seen), the closest the export offers.
"""

from __future__ import annotations

from collections.abc import Sequence

from crm.gap.exports.cells import AUTHORITY, BOOL, COUNT_KIND, URL
from crm.gap.exports.formats import ExportFormat, LinkRule, Match, col, rel_of_flags, site_of_column


class SemrushBacklinks(ExportFormat):
    id = "semrush-backlinks"
    label = "Semrush Backlinks"
    has_target = True
    required = {
        "page_url": col("Source url", kind=URL),
        "target": col("Target url"),
        "authority": col("Page ascore", "Page score", "Page AS", kind=AUTHORITY),
    }
    optional = {
        "title": col("Source title"),
        "anchor": col("Anchor"),
        "nofollow": col("Nofollow", kind=BOOL),
        "sponsored": col("Sponsored", kind=BOOL),
        "ugc": col("Ugc", kind=BOOL),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen"),
        "lost": col("Lost link", kind=BOOL),
    }
    signature = ("source url",)
    link = LinkRule(
        domain="page_url",
        authority="authority",
        rel=rel_of_flags("nofollow", "ugc", "sponsored"),
        lost="coalesce(lost, false)",
        score="authority",
        target="target",
        page="page_url",
    )

    def variant(self, keys: Sequence[str]) -> str:
        return "older" if "page score" in keys else ""


class SemrushRefdomains(ExportFormat):
    id = "semrush-refdomains"
    label = "Semrush Referring Domains"
    required = {
        "domain": col("Domain", "Root domain", kind=URL),
        "authority": col("Domain ascore", "Authority Score", "Domain AS", kind=AUTHORITY),
    }
    optional = {
        "backlinks": col("Backlinks", kind=COUNT_KIND),
        "first_seen": col("First seen"),
        "last_seen": col("Last seen"),
    }
    signature = ("backlinks", "ip address", "ip", "country")
    link = LinkRule(domain="domain", backlinks="coalesce(backlinks, 1)", authority="authority")


class SemrushGap(ExportFormat):
    """Backlink Gap: one row per referring domain, one backlink-count column per site."""

    id = "semrush-gap"
    label = "Semrush Backlink Gap"
    multi_site = True
    site_kind = COUNT_KIND
    required = {
        "domain": col("Domain", "Referring domain", kind=URL),
        "authority": col("Domain ascore", "Authority Score", "Domain AS", kind=AUTHORITY),
    }
    link = LinkRule(domain="domain", authority="authority", site_backlinks="{site}")

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


FORMATS: tuple[ExportFormat, ...] = (SemrushBacklinks(), SemrushRefdomains(), SemrushGap())
