"""Read a ranking export: Search Console's Performance › Pages table (CSV, or the ZIP the UI
exports with Queries, Pages, Countries...) or a rank tracker's CSV. Pure and bounded.

Columns are recognised by their headings after trimming and case-folding, in
the languages Search Console writes them. A file with clicks and impressions
is a Search Console table (one row per page); one with a keyword column is a
rank tracker's (one row per keyword and page, maybe with a date per row).
Every problem is an ExportError naming the file, line and column; nothing is
half-read. Reading stops with an error past MAX_ROWS rows or MAX_BYTES of text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from crm.core.storable import NUL_IN_FILE
from crm.gap.exports.cells import parse_grouped_count
from crm.gap.exports.errors import ExportError
from crm.gap.exports.textio import DELIMITERS, LineReader, Source, open_sources, sniff_encoding

MAX_ROWS = 200_000
MAX_BYTES = 64 * 1024 * 1024
MAX_FIELD = 8 * 1024


def parse_date(text: str) -> date | None:
    """Read `YYYY-MM-DD[ HH:MM:SS]` or `DD/MM/YYYY` (day first unless impossible); else None."""
    key = text.strip()
    try:
        return date.fromisoformat(key[:10])
    except ValueError:
        pass
    match = re.match(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})", key)
    if match is None:
        return None
    first, second, year = (int(g) for g in match.groups())
    day, month = (first, second) if second <= 12 else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _words(*words: str) -> frozenset[str]:
    return frozenset(" ".join(w.casefold().split()) for w in words)


PAGE = _words("Top pages", "Page", "Pages", "URL", "Landing page", "Ranking URL", "Target URL",
              "Found URL", "Top-Seiten", "Seite", "Seiten", "Pages les plus populaires",
              "Páginas principales", "Página", "Pagine principali", "Pagina",
              "Páginas principais", "Populairste pagina's", "Pagina's")  # fmt: skip
CLICKS = _words("Clicks", "Klicks", "Clics", "Cliques", "Klikken", "Clic")
IMPRESSIONS = _words("Impressions", "Impressionen", "Impresiones", "Impressioni", "Impressões",
                     "Vertoningen")  # fmt: skip
POSITION = _words("Position", "Average position", "Avg. position", "Posición", "Posizione",
                  "Posição", "Positie", "Durchschnittliche Position", "Position moyenne",
                  "Rank", "Ranking", "Current position", "Pos", "Google position",
                  "Google rank")  # fmt: skip
KEYWORD = _words("Keyword", "Query", "Search term", "Top queries", "Suchanfrage", "Requête",
                 "Consulta", "Query principali")  # fmt: skip
DAY = _words("Date", "Day", "Checked", "Last checked", "Datum", "Fecha", "Data", "Jour")
NOT_RANKED = _words("", "-", "–", "—", "n/a", "na", "not ranked", "none", ">100", "> 100", "100+")


@dataclass(frozen=True)
class Observation:
    """A page's position (and clicks, impressions) on a day, for a keyword or overall."""

    url: str
    url_key: str
    observed_on: date
    keyword: str
    position: float | None
    clicks: int | None
    impressions: int | None


@dataclass(frozen=True)
class RankFile:
    source: str  # "gsc" or "tracker"
    name: str
    observations: list[Observation]


def url_key(url: str) -> str:
    """Fold a URL so one page matches however it was written: scheme, host case, www, slash."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", host, path, parts.query, "")).removeprefix("//")


def _position(text: str) -> float | None:
    key = text.strip()
    if " ".join(key.casefold().split()) in NOT_RANKED:
        return None
    try:
        value = float(key.replace(",", "."))
    except ValueError:
        raise ValueError(f'expected a position, got "{key[:40]}"') from None
    if not 0 < value <= 1000:
        raise ValueError(f'expected a position from 1 to 1000, got "{key[:40]}"')
    return value


def _count(text: str) -> int | None:
    return parse_grouped_count(text.replace("\u00a0", " ").strip())


_HEADINGS = (("page", PAGE), ("clicks", CLICKS), ("impressions", IMPRESSIONS),
             ("position", POSITION), ("keyword", KEYWORD), ("day", DAY))  # fmt: skip


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = " ".join(cell.strip().lstrip("\ufeff").casefold().split())
        for name, words in _HEADINGS:
            if key in words and name not in found:
                found[name] = index
    return found


def _lines(source: Source) -> Iterator[str]:
    with source.open_binary() as raw:
        head = raw.read(4)
        codec, bom = sniff_encoding(head)
        total = 0
        lines = LineReader(raw, codec, source.display_name, prefix=head[bom:])
        for number, line in enumerate(lines, 1):
            total += len(line) + 1
            if total > MAX_BYTES:
                too_big = f"the file holds more than {MAX_BYTES // 2**20} MiB of text"
                raise ExportError(source.display_name, None, None, too_big)
            if "\x00" in line:  # no text holds one; PostgreSQL cannot store it
                raise ExportError(source.display_name, number, None, NUL_IN_FILE)
            yield line


def _read(source: Source, as_of: date) -> RankFile | None:
    """Read one CSV; None when it is not a pages table (another table of a GSC ZIP)."""
    lines = _lines(source)
    first = next(lines, "")
    delimiter = max(DELIMITERS, key=first.count)
    header = next(csv.reader([first], delimiter=delimiter), [])
    columns = _columns(header)
    if "page" not in columns or "position" not in columns:
        if source.member is not None:
            return None
        missing = [n for n in ("page", "position") if n not in columns]
        shown = ", ".join(f'"{h.strip()}"' for h in header[:12]) or "nothing"
        raise ExportError(source.display_name, 1, None,
                          f"no {' or '.join(missing)} column (found {shown})")  # fmt: skip
    kind = "gsc" if "clicks" in columns and "impressions" in columns else "tracker"
    out: list[Observation] = []
    reader = csv.reader(lines, delimiter=delimiter)
    names = {index: header[index].strip() for index in columns.values()}
    for row in reader:
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(out) >= MAX_ROWS:
            raise ExportError(source.display_name, line, None,
                              f"more than {MAX_ROWS:,} rows: split the export")  # fmt: skip
        out.append(_observation(row, columns, names, source.display_name, line, as_of))
    return RankFile(kind, source.display_name, out)


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(row):
        return ""
    cell = row[index]
    if len(cell) > MAX_FIELD:
        raise ValueError(f"a cell of {len(cell):,} characters is too long")
    return cell


def _observation(row: list[str], columns: dict[str, int], names: dict[int, str], file: str,
                 line: int, as_of: date) -> Observation:  # fmt: skip
    current = "page"
    try:
        url = _cell(row, columns, "page").strip()
        if not re.match(r"^(https?://)?[^\s/]+\.[^\s/]+", url):
            raise ValueError(f'expected a page URL, got "{url[:60]}"')
        current = "position"
        position = _position(_cell(row, columns, "position"))
        current = "clicks"
        clicks = _count(_cell(row, columns, "clicks"))
        current = "impressions"
        impressions = _count(_cell(row, columns, "impressions"))
        current = "day"
        day_text = _cell(row, columns, "day")
        day = parse_date(day_text) if day_text.strip() else as_of
        if day is None:
            raise ValueError(f'expected a date, got "{day_text[:30]}"')
        keyword = _cell(row, columns, "keyword").strip()[:500]
    except ValueError as exc:
        raise ExportError(file, line, names.get(columns.get(current, -1)), str(exc)) from None
    return Observation(url[:2048], url_key(url)[:2048], day, keyword, position, clicks, impressions)


def read_rank_file(path: str | Path, as_of: date, display_name: str | None = None) -> RankFile:
    """Read a ranking export (CSV, or a Search Console ZIP) dated `as_of`."""
    sources = open_sources(path, display_name)
    for source in sources:
        found = _read(source, as_of)
        if found is not None:
            if not found.observations:
                raise ExportError(source.display_name, None, None, "the table has no rows")
            return found
    names = ", ".join(s.member or s.display_name for s in sources)
    message = f"no Pages table in the ZIP (found {names}): export Performance › Pages"
    raise ExportError(display_name or Path(path).name, None, None, message)
