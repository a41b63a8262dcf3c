"""What every export format shares: header matching, cells, the row contract.

A format declares the columns it needs (by their known header spellings,
compared after trimming and case-folding) and turns one CSV record into raw
links. `convert` is the careful, column-by-column reading that names the
failing column; the two big formats add a fast loop that falls back to it for
any row it does not take at face value, so both paths agree by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, ClassVar

from crm.core.domains import DomainError, registrable_domain
from crm.gap.exports.errors import ExportError
from crm.gap.exports.model import REL_UNKNOWN, ExportInfo
from crm.gap.exports.records import BrokenRecord, CsvRecords, Records
from crm.gap.exports.values import parse_domain

# One link as the readers hand it to the reducer: a plain tuple, because a
# few million of them are made per import.
#   (domain, site, backlinks, authority, traffic, rel, spam, lost, language,
#    rank, target, row)
# rank orders evidence (higher = better), target is the URL linked ("" when
# unknown) and row is the record itself (None: the format has no page-level
# evidence); the evidence builder turns a row into Evidence text only for the
# few pages kept.
RawLink = tuple[
    str,
    str,
    int,
    float | None,
    int | None,
    int,
    bool | None,
    bool,
    str,
    float,
    str,
    list[str] | None,
]
EvidenceBuilder = Callable[[list[str], int, bool], str]

# Evidence is kept as one string of these fields joined by EVIDENCE_SEP: a
# tuple of a dozen strings per kept page would cost three times the memory.
EVIDENCE_COLUMNS = (
    "page_url",
    "title",
    "target",
    "anchor",
    "first_seen",
    "last_seen",
    "http_code",
    "language",
    "page_type",
    "page_category",
)
EVIDENCE_FIELDS = (*EVIDENCE_COLUMNS, "rel", "lost")
EVIDENCE_SEP = "\x1f"

# Evidence rank = live bonus + followed bonus + the page's own score (0-100):
# a live page first (a lost one shows nothing today), then a followed one,
# then the strongest page.
# The page score counts in steps of 10: finer steps only reshuffle near-equal
# pages, and every reshuffle costs work on millions of rows.
EVIDENCE_LIVE = 1000.0
EVIDENCE_DOFOLLOW = 200.0
EVIDENCE_SCORE_STEP = 10.0


def evidence_rank(score: float | None, rel: int, lost: bool) -> float:
    """Rank a page as evidence (higher is better); the fast loops inline the same sum."""
    rank = (score // EVIDENCE_SCORE_STEP) * EVIDENCE_SCORE_STEP if score else 0.0
    if rel == 0:
        rank += EVIDENCE_DOFOLLOW
    if not lost:
        rank += EVIDENCE_LIVE
    return rank


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


class CellError(ValueError):
    """A cell that does not hold what its column must; `column` is its header."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class DomainFolder:
    """Registrable domains of URL prefixes / hosts, cached for one import."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def miss(self, key: str) -> str:
        """Fold a key not cached yet (DomainError for junk)."""
        domain = registrable_domain(key)
        self.cache[key] = domain
        return domain

    def url(self, url: str) -> str:
        """Return the registrable domain of a URL or host."""
        cut = url.find("/", 8)
        key = url[:cut] if cut > 0 else url
        return self.cache.get(key) or self.miss(key)


def domain_cell(folder: DomainFolder) -> Callable[[str], str]:
    """Return a cell parser folding a URL or host through the import's cache."""

    def parse(text: str) -> str:
        text = text.strip()
        try:
            return folder.url(text)
        except ValueError:
            return parse_domain(text)  # raises with the human message

    return parse


@dataclass(frozen=True, slots=True)
class Match:
    """How a header fits a format."""

    format: ExportFormat
    columns: dict[str, int]
    site_columns: tuple[tuple[str, int], ...] = ()
    variant: str = ""
    score: int = 0

    @property
    def label(self) -> str:
        return f"{self.format.label} ({self.variant})" if self.variant else self.format.label


@dataclass(frozen=True)
class Column:
    """A field we read: its usual header, every spelling it goes by, its kind."""

    title: str
    names: tuple[str, ...]
    kind: str = "text"


def col(title: str, *aliases: str, kind: str = "text") -> Column:
    """Declare a column by its usual header and the variants seen in the wild."""
    names = tuple(dict.fromkeys(header_key(n) for n in (title, *aliases)))
    return Column(title, names, kind)


class Cells:
    """Careful access to one record's cells; errors name the column."""

    __slots__ = ("_columns", "_header", "parts")

    def __init__(self, parts: list[str], columns: Mapping[str, int], header: Sequence[str]) -> None:
        self.parts = parts
        self._columns = columns
        self._header = header

    def has(self, name: str) -> bool:
        return name in self._columns

    def raw(self, name: str) -> str:
        index = self._columns.get(name)
        if index is None or index >= len(self.parts):
            return ""
        return self.parts[index].strip()

    def get(self, name: str, parse: Callable[[str], Any]) -> Any:
        index = self._columns.get(name)
        if index is None:
            return None
        return self.at(index, parse)

    def at(self, index: int, parse: Callable[[str], Any]) -> Any:
        text = self.parts[index] if index < len(self.parts) else ""
        try:
            return parse(text)
        except ValueError as exc:
            raise CellError(self._header[index], str(exc)) from None

    def column(self, name: str) -> str:
        return self._header[self._columns[name]]


class ExportFormat:
    """One tool's export: how to recognise its header and read its rows."""

    id: ClassVar[str]
    label: ClassVar[str]
    required: ClassVar[Mapping[str, Column]] = {}
    optional: ClassVar[Mapping[str, Column]] = {}
    # At least one of these header keys must be present (tells look-alikes apart).
    signature: ClassVar[tuple[str, ...]] = ()
    has_target: ClassVar[bool] = False
    multi_site: ClassVar[bool] = False
    skip_broken: ClassVar[bool] = False
    # The columns a format's fast loop (and the DuckDB import) needs; () = no fast loop.
    fast_columns: ClassVar[tuple[str, ...]] = ()
    ragged: ClassVar[bool] = False

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
        return [self.display(n) for n in self.required if n not in found]

    def display(self, name: str) -> str:
        column = self.required.get(name) or self.optional[name]
        return column.title

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

    # -- rows -------------------------------------------------------------

    def lost_text(self, info: ExportInfo) -> Callable[[list[str]], str]:
        """Return how a lost link's row says why (default: just "lost")."""
        return lambda row: "lost"

    def evidence_builder(self, info: ExportInfo) -> EvidenceBuilder:
        """Return a function making the evidence text of a (padded) row of this file."""
        width = len(info.header)
        get = itemgetter(*(info.columns.get(n, width) for n in EVIDENCE_COLUMNS))
        lost_text = self.lost_text(info)
        # The two computed fields go last, so the cells join in one call.
        tails = {(rel, False): f"{EVIDENCE_SEP}{rel}{EVIDENCE_SEP}" for rel in range(-1, 8)}
        join = EVIDENCE_SEP.join

        def build(row: list[str], rel: int, lost: bool) -> str:
            if lost:
                return f"{join(get(row))}{EVIDENCE_SEP}{rel}{EVIDENCE_SEP}{lost_text(row)}"
            return join(get(row)) + tails[rel, False]

        return build

    def has_fast_columns(self, info: ExportInfo) -> bool:
        """Tell whether this file has what the format's fast loop needs."""
        return bool(self.fast_columns) and all(n in info.columns for n in self.fast_columns)

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        """Read one record carefully (CellError names the bad column)."""
        raise NotImplementedError

    def links(
        self, info: ExportInfo, records: Records | CsvRecords, folder: DomainFolder
    ) -> Iterator[RawLink]:
        """Yield the raw links of every record; ExportError on a bad one."""
        yield from self.careful_links(info, records, folder)

    def careful_links(
        self,
        info: ExportInfo,
        records: Iterable[list[str]] | Records | CsvRecords,
        folder: DomainFolder,
        start: int = 0,
    ) -> Iterator[RawLink]:
        columns = info.columns
        header = info.header
        convert = self.convert
        index = start - 1
        try:
            for index, parts in enumerate(records, start):  # noqa: B007 - used on error
                parts.append("")  # absent optional columns point one past the end
                yield from convert(info, Cells(parts, columns, header), folder)
        except CellError as exc:
            line = records.line_of(index) if isinstance(records, Records | CsvRecords) else None
            raise ExportError(info.display_name, line, exc.column, exc.message) from None

    def row_error(
        self,
        info: ExportInfo,
        records: Records | CsvRecords,
        index: int,
        parts: list[str],
        folder: DomainFolder,
    ) -> list[RawLink]:
        """Read a (padded) row the fast loop refused; return its links or raise ExportError."""
        try:
            return list(self.convert(info, Cells(parts, info.columns, info.header), folder))
        except CellError as exc:
            raise ExportError(
                info.display_name, records.line_of(index), exc.column, exc.message
            ) from None


def broken_record_error(info: ExportInfo, exc: BrokenRecord) -> ExportError:
    """Turn a CSV grammar problem into the importer's error."""
    return ExportError(info.display_name, exc.line, None, exc.message)


def rel_bits(nofollow: bool | None, ugc: bool | None, sponsored: bool | None) -> int:
    """Combine rel flags into LinkRow.rel bits; unknown when no flag is known."""
    if nofollow is None and ugc is None and sponsored is None:
        return REL_UNKNOWN
    return (1 if nofollow else 0) | (2 if ugc else 0) | (4 if sponsored else 0)
