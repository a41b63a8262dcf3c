"""Linkable assets: per competitor, its pages ranked by how many gap domains link to them.

This shows which content earns links in the niche (skyscraper and
broken-link candidates). Target URLs are compared in a normal form (no
scheme, no www., no trailing slash, no fragment or tracking parameters), so
`https://www.rival.com/guide/` and `http://rival.com/guide` are one page.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from crm.gap.compute import GapRow
from crm.gap.facts import DomainFacts

SAMPLE_DOMAINS = 5
_TRACKING = ("utm_", "fbclid", "gclid", "mc_", "ref", "source")


@lru_cache(maxsize=65536)
def page_key(url: str) -> str:
    """Return the form in which two URLs of one page compare equal.

    Cached: an import's target URLs are a few thousand competitor pages
    named again by every domain that links to them.
    """
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().rsplit("@", 1)[-1]
    host = host.split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    ]
    return host + path + (f"?{urlencode(sorted(query))}" if query else "")


@dataclass(frozen=True, slots=True)
class Asset:
    """One competitor page and the gap domains linking to it."""

    site: str
    url: str
    gap_domains: int
    sample: tuple[str, ...]
    broken: int = 0


class _Page:
    """One competitor page as the tally has seen it so far."""

    __slots__ = ("best", "broken", "domains", "url")

    def __init__(self, url: str) -> None:
        self.url = url  # the first spelling seen
        self.domains = 0
        self.broken = 0
        self.best: list[tuple[float, str]] = []  # (-authority, domain), the sample's few


class AssetTally:
    """Count, gap domain by gap domain, which competitor pages they link to.

    Each domain comes once, so a page keeps counts and its few best domains,
    not the set of every domain linking to it (a million at full size).
    """

    def __init__(self, competitors: Sequence[str]) -> None:
        self.competitors = tuple(competitors)
        self.pages: dict[str, dict[str, _Page]] = {c: {} for c in competitors}

    def add(self, row: GapRow, fact: DomainFacts) -> None:
        """Count one domain (only gap domains count)."""
        if not row.is_gap:
            return
        rank = (-(fact.authority or 0.0), row.domain)
        for site in row.competitors:
            keys: dict[str, str] = {}
            for url in fact.targets.get(site, ()):
                keys.setdefault(page_key(url), url)
            if not keys:
                continue
            broken = {
                page_key(page.target_url)
                for page in fact.evidence.get(site, ())
                if page.lost and page.target_url
            }
            pages = self.pages[site]
            for key, url in keys.items():
                page = pages.get(key)
                if page is None:
                    page = pages[key] = _Page(url)
                page.domains += 1
                page.broken += key in broken
                insort(page.best, rank)
                del page.best[SAMPLE_DOMAINS:]

    def assets(self, limit: int = 20) -> dict[str, list[Asset]]:
        """Rank each competitor's pages; `broken` counts domains whose evidence there is lost.

        Domains by descending authority in `sample`.
        """
        out: dict[str, list[Asset]] = {}
        for site in self.competitors:
            ranked = sorted(self.pages[site].items(), key=lambda kv: (-kv[1].domains, kv[0]))
            out[site] = [
                Asset(
                    site=site,
                    url=page.url,
                    gap_domains=page.domains,
                    sample=tuple(domain for _, domain in page.best),
                    broken=page.broken,
                )
                for _, page in ranked[:limit]
            ]
        return out
