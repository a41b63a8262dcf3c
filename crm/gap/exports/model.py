"""Plain values describing an export and the links read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Bits of LinkRow.rel; 0 means a followed ("dofollow") link, REL_UNKNOWN that
# the export does not say.
NOFOLLOW = 1
UGC = 2
SPONSORED = 4
REL_UNKNOWN = -1


def rel_text(rel: int) -> str | None:
    """Return `dofollow`, or the comma-joined rel values, or None when unknown."""
    if rel < 0:
        return None
    if rel == 0:
        return "dofollow"
    names = []
    if rel & NOFOLLOW:
        names.append("nofollow")
    if rel & UGC:
        names.append("ugc")
    if rel & SPONSORED:
        names.append("sponsored")
    return ",".join(names)


class Evidence(NamedTuple):
    """A referring page that links to a site (DESIGN §3 "evidence").

    Dates are ISO `YYYY-MM-DD` text, as stored; `rel` is rel_text's; `lost`
    says why a lost link is gone.
    """

    page_url: str
    title: str | None = None
    target_url: str | None = None
    anchor: str | None = None
    rel: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    http_code: int | None = None
    lost: str | None = None
    language: str | None = None
    page_type: str | None = None
    page_category: str | None = None


class LinkRow(NamedTuple):
    """What the gap needs from one export row, for one site it links to.

    `backlinks` is the export's own count where it has one, else 1 per row;
    `rel` holds NOFOLLOW/UGC/SPONSORED bits (0 = dofollow, -1 = unknown);
    `lost` marks a link the tool reports as gone. `evidence` is None for
    exports without page-level rows (referring domains, GSC, Moz, gap files).
    """

    domain: str
    site: str
    backlinks: int
    authority: float | None
    traffic: int | None
    rel: int
    spam: bool | None
    lost: bool
    language: str | None
    evidence: Evidence | None


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What `inspect_export` found out about a file, enough to read it later.

    Plain values only, so a web page can show it before the import commits
    and a later request can read the file with it.
    """

    path: str
    display_name: str
    format_id: str
    label: str
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    owners: tuple[str, ...]
    owner_source: str
    columns: dict[str, int] = field(default_factory=dict)
    site_columns: tuple[tuple[str, int], ...] = ()
    member: str | None = None
    mapping: dict[str, str] | None = None
    rows_estimate: int | None = None
    size: int = 0

    @property
    def multi_site(self) -> bool:
        return bool(self.site_columns)
