"""What an export format declares: its columns (each with a kind) and how a row becomes links.

A format is declarations only. Its columns name every header spelling they go
by (compared after trimming and case-folding) and their kind
(crm.gap.exports.cells: the one rule a cell of that column follows). Its
`LinkRule` says, in SQL over the typed cells, how a row becomes a link: the
referring domain's cell, the counts, rel, lost, the evidence page. Both cell
readers — DuckDB for the big formats, the careful Python reader for the small
ones and for explaining a bad row — fill the same typed cells, and the one
LinkRule turns them into links, so a rule is written once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from crm.core.domains import DomainError, registrable_domain
from crm.gap.exports.cells import TEXT, Kind
from crm.gap.exports.model import ExportInfo

_SPACES = re.compile(r"\s+")
_DOMAIN_SHAPED = re.compile(r"^(?:https?://)?(?:www\.)?[^\s/.:]+(?:\.[^\s/.:]+)+/?$", re.I)


def header_key(cell: str) -> str:
    """Return a header cell as compared: trimmed, case-folded, spaces collapsed."""
    return _SPACES.sub(" ", cell.replace("\ufeff", "").strip().strip('"').casefold()).strip()


def site_of_column(name: str) -> str | None:
    """Return the site a multi-site column names (`rival.com/`), or None."""
    text = name.strip()
    if not _DOMAIN_SHAPED.match(text):
        return None
    try:
        return registrable_domain(text)
    except DomainError:
        return None


@dataclass(frozen=True)
class Column:
    """A field we read: its usual header, every spelling it goes by, its kind."""

    title: str
    names: tuple[str, ...]
    kind: Kind = TEXT


def col(title: str, *aliases: str, kind: Kind = TEXT) -> Column:
    """Declare a column by its usual header and the variants seen in the wild."""
    names = tuple(dict.fromkeys(header_key(n) for n in (title, *aliases)))
    return Column(title, names, kind)


@dataclass(frozen=True, slots=True)
class Match:
    """How a header fits a format."""

    format: ExportFormat
    columns: dict[str, int]
    site_columns: tuple[tuple[str, int], ...] = ()
    variant: str = ""
    score: int = 0


# The fields of a referring page kept as evidence, besides its URL, target and language.
EVIDENCE_FIELDS = (
    "title",
    "anchor",
    "first_seen",
    "last_seen",
    "http_code",
    "page_type",
    "page_category",
)


@dataclass(frozen=True)
class LinkRule:
    """How one row of typed cells becomes a link: SQL over the cells' names.

    Every declared column is there whether the file has it or not (absent
    ones hold what their kind reads from an empty cell: '' or NULL). `domain`
    names the URL or host cell the referring domain comes from. `page` is the
    evidence page's URL (None: the format has no page-level rows); each
    EVIDENCE_FIELDS value is the cell of that name, unless `evidence` gives
    its SQL (none: empty). `score` is the page's
    own score (0-100) that ranks evidence. A multi-site format's
    `site_backlinks` is the backlinks of one site column (`{site}` stands for
    it); a site whose value is NULL or 0 has no link from that row.
    """

    domain: str
    backlinks: str = "1"
    authority: str = "NULL"
    traffic: str = "NULL"
    rel: str = "-1"
    spam: str = "NULL"
    lost: str = "false"
    language: str = "''"
    score: str = "NULL"
    target: str = "''"
    page: str | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)
    lost_reason: str = "'lost'"
    site_backlinks: str | None = None


def rel_of_flags(nofollow: str, ugc: str, sponsored: str) -> str:
    """SQL of LinkRow.rel from three boolean cells: unknown when none says."""
    return (
        f"CASE WHEN {nofollow} IS NULL AND {ugc} IS NULL AND {sponsored} IS NULL THEN -1 "
        f"ELSE (CASE WHEN {nofollow} THEN 1 ELSE 0 END) | (CASE WHEN {ugc} THEN 2 ELSE 0 END)"
        f" | (CASE WHEN {sponsored} THEN 4 ELSE 0 END) END"
    )


def rel_of_followed(followed: str) -> str:
    """SQL of LinkRow.rel from one followed cell: dofollow, nofollow or unknown."""
    return f"CASE WHEN {followed} THEN 0 WHEN NOT {followed} THEN 1 ELSE -1 END"


def first_text(*cells: str, default: str = "") -> str:
    """SQL of the first non-empty text cell, else `default`."""
    parts = ", ".join(f"nullif({c}, '')" for c in cells)
    return f"coalesce({parts}, '{default}')"


class ExportFormat:
    """One tool's export: how to recognise its header, the columns it reads and its link rule."""

    id: ClassVar[str]
    label: ClassVar[str]
    required: ClassVar[Mapping[str, Column]] = {}
    optional: ClassVar[Mapping[str, Column]] = {}
    # At least one of these header keys must be present (tells look-alikes apart).
    signature: ClassVar[tuple[str, ...]] = ()
    has_target: ClassVar[bool] = False
    multi_site: ClassVar[bool] = False
    # Majestic: rows broken as CSV are skipped and counted rather than failing the file.
    skip_broken: ClassVar[bool] = False
    # Generic CSV: short rows are padded.
    ragged: ClassVar[bool] = False
    # The kind of a multi-site format's per-site cells.
    site_kind: ClassVar[Kind] = TEXT
    link: ClassVar[LinkRule]

    def resolve(self, keys: Sequence[str]) -> dict[str, int]:
        """Map our field names to column indexes for the columns present."""
        found: dict[str, int] = {}
        position = {k: i for i, k in reversed(list(enumerate(keys)))}
        for name, column in (*self.required.items(), *self.optional.items()):
            for spelling in column.names:
                if spelling in position:
                    found[name] = position[spelling]
                    break
        return found

    def missing(self, keys: Sequence[str]) -> list[str]:
        """Return the display names of required columns this header lacks."""
        found = self.resolve(keys)
        return [self.required[n].title for n in self.required if n not in found]

    def match(self, header: Sequence[str], keys: Sequence[str]) -> Match | None:
        """Return how the header fits this format, or None."""
        if self.signature and not any(s in keys for s in self.signature):
            return None
        columns = self.resolve(keys)
        if any(n not in columns for n in self.required):
            return None
        return Match(self, columns, variant=self.variant(keys), score=len(columns))

    def variant(self, keys: Sequence[str]) -> str:
        return ""

    def partial_score(self, keys: Sequence[str]) -> float:
        """How much of this format's required header is there (for a missing-column error)."""
        if not self.required:
            return 0.0
        columns = self.resolve(keys)
        have = sum(1 for n in self.required if n in columns)
        if self.signature and any(s in keys for s in self.signature):
            have += 1
        return have / len(self.required)

    # -- what the readers need -------------------------------------------------

    def kinds(self, info: ExportInfo) -> dict[str, Kind]:
        """Return every cell the link rule reads, by name, with its kind (site columns last)."""
        kinds = {name: c.kind for name, c in (*self.required.items(), *self.optional.items())}
        for number in range(len(info.site_columns)):
            kinds[f"site_{number}"] = self.site_kind
        return kinds

    def cell_index(self, info: ExportInfo, name: str) -> int | None:
        """Return where a named cell is in the file's rows (None: the file lacks it)."""
        if name.startswith("site_") and name not in info.columns:
            return info.site_columns[int(name[5:])][1]
        return info.columns.get(name)

    def link_rule(self, info: ExportInfo) -> LinkRule:
        """Return the link rule for this file (a few formats vary it by header)."""
        return self.link

    def read_by_duckdb(self, info: ExportInfo) -> bool:
        """Tell whether DuckDB reads this file's cells (every kind has SQL; no per-row leniency)."""
        return (
            not self.multi_site
            and not self.skip_broken
            and not self.ragged
            and all(kind.sql is not None for kind in self.kinds(info).values())
        )
