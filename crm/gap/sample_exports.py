"""Write exports in the exact byte formats the SEO tools produce (shared/formats/).

The tests, the demo workspace and the gap table benchmark all write their
exports with these functions, so what they import is what a user drops in:
Ahrefs as UTF-16LE with a BOM, TAB-separated and fully quoted; Semrush, Moz,
Majestic and Search Console as UTF-8 CSV with minimal quoting; LF line ends.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

AHREFS_BACKLINKS_HEADER = (
    "Referring page title", "Referring page URL", "Language", "Platform",
    "Referring page HTTP code", "Domain rating", "UR", "Domain traffic", "Referring domains",
    "Linked domains", "External links", "Page traffic", "Keywords", "Target URL",
    "Left context", "Anchor", "Right context", "Redirect Chain URLs",
    "Redirect Chain status codes", "Type", "Is spam", "Content", "Nofollow", "UGC",
    "Sponsored", "Rendered", "Raw", "Lost status", "Drop reason", "Discovered status",
    "First seen", "Last seen", "Lost", "Author", "Page type", "Page category",
    "Links in group",
)  # fmt: skip
# The older 30-column export lacks these.
AHREFS_OLDER_MISSING = frozenset({"UR", "Redirect Chain URLs", "Redirect Chain status codes",
                                  "Is spam", "Author", "Page type", "Page category"})  # fmt: skip
AHREFS_REFDOMAINS_HEADER = (
    "Domain", "Is spam", "DR", "Dofollow ref. domains", "Dofollow linked domains", "Traffic ",
    "Keywords ", "Links to target", "Dofollow links", "First seen", "Lost",
)  # fmt: skip
SEMRUSH_BACKLINKS_HEADER = (
    "Page ascore", "Source title", "Source url", "Target url", "Anchor", "External links",
    "Internal links", "Nofollow", "Sponsored", "Ugc", "Text", "Frame", "Form", "Image",
    "Sitewide", "First seen", "Last seen", "New link", "Lost link",
)  # fmt: skip
SEMRUSH_REFDOMAINS_HEADER = (
    "Domain ascore", "Domain", "Backlinks", "IP Address", "Country", "First seen", "Last seen",
)  # fmt: skip
GSC_HEADER = ("Site", "Linking pages", "Target pages")
MOZ_HEADER = ("Root Domain", "Domain Authority", "Spam Score", "Linking Pages", "Followed",
              "First Seen", "Last Seen")  # fmt: skip
MAJESTIC_HEADER = (
    "Target URL", "Source URL", "Anchor Text", "Source Crawl Date", "Source First Found Date",
    "FlagNoFollow", "FlagImageLink", "FlagRedirect", "FlagFrame", "FlagOldCrawl", "FlagAltText",
    "FlagMention", "SourceCitationFlow", "SourceTrustFlow", "TargetCitationFlow",
    "TargetTrustFlow", "SourceTopicalTrustFlow_Topic_0", "SourceTopicalTrustFlow_Value_0",
)  # fmt: skip


@dataclass(frozen=True)
class SampleLink:
    """One backlink as a page-level export lists it."""

    page_url: str
    target_url: str
    title: str = ""
    anchor: str = ""
    authority: float | None = None
    traffic: int | None = None
    nofollow: bool = False
    ugc: bool = False
    sponsored: bool = False
    spam: bool = False
    language: str = "en"
    http_code: int = 200
    first_seen: str = "2025-03-14"
    last_seen: str = "2026-10-02"
    lost: str = ""  # a lost date (YYYY-MM-DD) when the tool reports the link gone
    page_type: str = ""
    page_category: str = ""


@dataclass(frozen=True)
class SampleDomain:
    """One referring domain as a domain-level export lists it."""

    domain: str
    authority: float | None = None
    backlinks: int = 1
    traffic: int | None = None
    dofollow_links: int | None = None
    spam: bool = False


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _ahrefs_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    def line(cells: Sequence[str]) -> str:
        return "\t".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"

    text = line(header) + "".join(line(r) for r in rows)
    return b"\xff\xfe" + text.encode("utf-16-le")


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def ahrefs_backlinks_bytes(links: Iterable[SampleLink], *, older: bool = False) -> bytes:
    """Return an Ahrefs Site Explorer Backlinks export (37 columns, or the older 30)."""
    header = [h for h in AHREFS_BACKLINKS_HEADER if not (older and h in AHREFS_OLDER_MISSING)]
    rows = []
    for ln in links:
        lost_at = f"{ln.lost} 00:00:00" if ln.lost else ""
        values = {
            "Referring page title": ln.title,
            "Referring page URL": ln.page_url,
            "Language": ln.language,
            "Platform": "wordpress",
            "Referring page HTTP code": str(ln.http_code),
            "Domain rating": _number(ln.authority),
            "UR": "12",
            "Domain traffic": _number(ln.traffic),
            "Referring domains": "35",
            "Linked domains": "120",
            "External links": "140",
            "Page traffic": "90",
            "Keywords": "17",
            "Target URL": ln.target_url,
            "Left context": "see ",
            "Anchor": ln.anchor,
            "Right context": " for details",
            "Redirect Chain URLs": "",
            "Redirect Chain status codes": "",
            "Type": "text",
            "Is spam": _bool(ln.spam),
            "Content": "true",
            "Nofollow": _bool(ln.nofollow),
            "UGC": _bool(ln.ugc),
            "Sponsored": _bool(ln.sponsored),
            "Rendered": "false",
            "Raw": "true",
            "Lost status": "removedfromhtml" if ln.lost else "",
            "Drop reason": "",
            "Discovered status": "pagefound",
            "First seen": f"{ln.first_seen} 10:00:00",
            "Last seen": f"{ln.last_seen} 10:00:00",
            "Lost": lost_at,
            "Author": "",
            "Page type": ln.page_type,
            "Page category": ln.page_category,
            "Links in group": "1",
        }
        rows.append([values[h] for h in header])
    return _ahrefs_bytes(header, rows)


def ahrefs_refdomains_bytes(domains: Iterable[SampleDomain]) -> bytes:
    """Return an Ahrefs Referring domains export (name the file `<site>-refdomains-...`)."""
    rows = [
        [d.domain, _bool(d.spam), _number(d.authority), "120", "40", _number(d.traffic), "300",
         str(d.backlinks), str(d.dofollow_links if d.dofollow_links is not None else d.backlinks),
         "2024-10-27 17:57:55", ""]
        for d in domains
    ]  # fmt: skip
    return _ahrefs_bytes(AHREFS_REFDOMAINS_HEADER, rows)


def semrush_backlinks_bytes(links: Iterable[SampleLink]) -> bytes:
    """Return a Semrush Backlinks export."""
    rows = [
        [_number(ln.authority), ln.title, ln.page_url, ln.target_url, ln.anchor, "12", "30",
         _bool(ln.nofollow), _bool(ln.sponsored), _bool(ln.ugc), "true", "false", "false",
         "false", "false", ln.first_seen, ln.last_seen, "false", _bool(bool(ln.lost))]
        for ln in links
    ]  # fmt: skip
    return _csv_bytes(SEMRUSH_BACKLINKS_HEADER, rows)


def semrush_refdomains_bytes(domains: Iterable[SampleDomain], *, delimiter: str = ",") -> bytes:
    """Return a Semrush Referring Domains export (file name: `<site>-backlinks_refdomains.csv`)."""
    rows = [[_number(d.authority), d.domain, str(d.backlinks), "151.101.3.10", "us", "2024-05-20",
             "2026-02-05"] for d in domains]  # fmt: skip
    return _csv_bytes(SEMRUSH_REFDOMAINS_HEADER, rows, delimiter)


def gsc_bytes(rows: Iterable[tuple[str, int, int]], header: Sequence[str] = GSC_HEADER) -> bytes:
    """Return a Search Console "Top linking sites" CSV (counts with thousands separators)."""
    return _csv_bytes(
        header, [[site, f"{pages:,}", f"{targets:,}"] for site, pages, targets in rows]
    )


def gsc_zip_bytes(rows: Iterable[tuple[str, int, int]]) -> bytes:
    """Return the ZIP Search Console downloads: top linking sites among its other CSVs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Top target pages.csv", "Target page,Incoming links\n/,12\n")
        archive.writestr("Top linking sites.csv", gsc_bytes(rows))
        archive.writestr("Top linking text.csv", "Linking text,Links\nsample,3\n")
    return out.getvalue()


def majestic_bytes(links: Iterable[SampleLink]) -> bytes:
    """Return a Majestic Backlinks export (a flag is set when its cell is non-empty)."""
    rows = [
        [ln.target_url, ln.page_url, ln.anchor, ln.last_seen, ln.first_seen,
         "+" if ln.nofollow else "", "", "", "", "", "", "", "20",
         _number(ln.authority), "10", "12", "Business", "14"]
        for ln in links
    ]  # fmt: skip
    return _csv_bytes(MAJESTIC_HEADER, rows)


def generic_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """Return a plain UTF-8 CSV of any columns (a generic export the user maps)."""
    return _csv_bytes(header, rows)


def write(path: Path, data: bytes) -> Path:
    """Write export bytes to path (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
