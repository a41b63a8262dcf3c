"""Linkable assets: per competitor, its pages ranked by how many gap domains link to them.

This shows which content earns links in the niche (skyscraper and
broken-link candidates). Target URLs are compared in a normal form (no
scheme, no www., no trailing slash, no fragment or tracking parameters), so
`https://www.rival.com/guide/` and `http://rival.com/guide` are one page.
"""

from __future__ import annotations

from collections import defaultdict
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


class AssetTally:
    """Count, gap domain by gap domain, which competitor pages they link to."""

    def __init__(self, competitors: Sequence[str]) -> None:
        self.competitors = tuple(competitors)
        self.linking: dict[str, dict[str, set[str]]] = {c: defaultdict(set) for c in competitors}
        self.shown: dict[tuple[str, str], str] = {}
        self.broken: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.authority: dict[str, float] = {}

    def add(self, row: GapRow, fact: DomainFacts) -> None:
        """Count one domain (only gap domains count)."""
        if not row.is_gap:
            return
        for site in row.competitors:
            urls = fact.targets.get(site, ())
            for url in urls:
                key = page_key(url)
                self.linking[site][key].add(row.domain)
                self.shown.setdefault((site, key), url)
            for page in fact.evidence.get(site, ()):
                if page.lost and page.target_url:
                    self.broken[site, page_key(page.target_url)].add(row.domain)
            if urls:
                self.authority[row.domain] = fact.authority or 0.0

    def assets(self, limit: int = 20) -> dict[str, list[Asset]]:
        """Rank each competitor's pages; `broken` counts domains whose evidence there is lost.

        Domains by descending authority in `sample`.
        """
        out: dict[str, list[Asset]] = {}
        for site in self.competitors:
            ranked = sorted(self.linking[site].items(), key=lambda kv: (-len(kv[1]), kv[0]))
            out[site] = [
                Asset(
                    site=site,
                    url=self.shown[site, key],
                    gap_domains=len(domains),
                    sample=tuple(
                        sorted(domains, key=lambda d: (-self.authority[d], d))[:SAMPLE_DOMAINS]
                    ),
                    broken=len(self.broken.get((site, key), set()) & domains),
                )
                for key, domains in ranked[:limit]
            ]
        return out
