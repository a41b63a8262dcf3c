"""Split lines of text into CSV records, fast, with the line each starts on.

A line whose quoting is trivially unambiguous is split with `str.split`
(every field quoted and no `"` inside but `""` escapes, or no `"` at all);
anything else goes through the C `csv` module, which also handles quoted
newlines. Minimally quoted files go straight through the csv reader.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Iterator
from itertools import chain
from typing import Any

# A record may span lines (quoted newlines); more than this many means an
# unterminated quote swallowing the file, reported at the record's first line.
MAX_RECORD_LINES = 200


class BrokenRecord(Exception):
    """A record the CSV grammar cannot read; `line` is where it starts."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "the file ends inside a quoted field (truncated, or a quote is never closed)"
    if "expected after" in text:
        return f"broken CSV row: text after a closing quote ({text})"
    if "field larger than field limit" in text or "too many lines" in text:
        return "a quoted field is never closed (it runs on for hundreds of lines)"
    if "NUL" in text:
        return "the row contains a NUL byte (is this a binary file?)"
    return f"broken CSV row: {text}"


class Records:
    """Iterate the CSV records after a header of `width` fields.

    Record k (0-based) starts at physical line `line_of(k)`. A record whose
    field count differs from the header is broken: with `skip_broken` it is
    counted in `skipped` and skipped (its continuation lines are re-read as
    records), otherwise BrokenRecord is raised. With `ragged`, short rows are
    padded and empty trailing extras trimmed before that check.
    """

    def __init__(
        self,
        lines: Iterator[str],
        *,
        delimiter: str,
        width: int,
        first_line: int,
        skip_broken: bool = False,
        ragged: bool = False,
    ) -> None:
        self._lines = lines
        self._delim = delimiter
        self._width = width
        self._first_line = first_line
        self._skip_broken = skip_broken
        self._ragged = ragged
        # Record indexes where the record/line correspondence shifts (blank,
        # multi-line and skipped rows) and the extra lines before each.
        self._shift_at: list[int] = []
        self._shift_extra: list[int] = []
        self._extra = 0
        self.skipped = 0
        self.skipped_lines: list[int] = []
        self.records = 0

    def line_of(self, index: int) -> int:
        """Return the physical line where record `index` starts."""
        at = bisect_right(self._shift_at, index)
        extra = self._shift_extra[at - 1] if at else 0
        return self._first_line + index + extra

    def _shift(self, index: int, lines: int) -> None:
        self._extra += lines
        if self._shift_at and self._shift_at[-1] == index:
            self._shift_extra[-1] = self._extra
        else:
            self._shift_at.append(index)
            self._shift_extra.append(self._extra)

    def __iter__(self) -> Iterator[list[str]]:
        delim = self._delim
        width = self._width
        quoted_sep = f'"{delim}"'
        quote_count = 2 * width
        it: Iterator[str] = iter(self._lines)
        k = 0
        while True:
            restart = False
            for line in it:
                if not line:
                    self._shift(k, 1)
                    continue
                if line[0] == '"':
                    if line[-1] == '"':
                        parts = line[1:-1].split(quoted_sep)
                        if len(parts) == width:
                            # Every field quoted and no quote inside any: the split is exact.
                            if line.count('"') == quote_count:
                                k += 1
                                yield parts
                                continue
                            # "" escapes: exact too when no lone quote is left in any part
                            # (a separator inside a field would leave one on each side).
                            unescaped = _unescape(parts)
                            if unescaped is not None:
                                k += 1
                                yield unescaped
                                continue
                elif '"' not in line:
                    # No quote at all: the csv grammar would split it the same way.
                    parts = line.split(delim)
                    if len(parts) != width:
                        fitted = self._fit_width(parts, k)
                        if fitted is None:
                            continue
                        parts = fitted
                    k += 1
                    yield parts
                    continue
                row, taken = self._slow(line, it, k)
                if row is None:
                    # Broken and skipped: re-read the lines it swallowed.
                    if len(taken) > 1:
                        it = chain(taken[1:], it)
                        restart = True
                        break
                    continue
                if len(taken) > 1:
                    self._shift(k + 1, len(taken) - 1)
                k += 1
                yield row
            if not restart:
                break
        self.records = k

    def _fit_width(self, row: list[str], index: int) -> list[str] | None:
        """Return the row fitted to the header width, None when skipped, or raise."""
        width = self._width
        if self._ragged:
            return row + [""] * (width - len(row)) if len(row) < width else row[:width]
        if len(row) > width and not any(row[width:]):
            return row[:width]
        if not self._skip_broken:
            raise BrokenRecord(self.line_of(index), f"expected {width} fields, found {len(row)}")
        self._skip(index)
        return None

    def _skip(self, index: int) -> None:
        self.skipped += 1
        if len(self.skipped_lines) < 20:
            self.skipped_lines.append(self.line_of(index))
        self._shift(index, 1)

    def _slow(
        self, first: str, it: Iterator[str], index: int
    ) -> tuple[list[str] | None, list[str]]:
        """Parse one record with the csv module; return (fields or None, lines used)."""
        taken = [first]

        def feed() -> Iterator[str]:
            yield first + "\n"
            for more in it:
                taken.append(more)
                if len(taken) > MAX_RECORD_LINES:
                    raise csv.Error("too many lines")
                yield more + "\n"

        try:
            row = next(csv.reader(feed(), delimiter=self._delim, strict=True), None)
        except csv.Error as exc:
            if not self._skip_broken:
                raise BrokenRecord(self.line_of(index), _csv_message(exc)) from None
            self._skip(index)
            return None, taken
        if row is None:  # pragma: no cover - feed always yields one line
            return None, taken
        if len(row) != self._width:
            fitted = self._fit_width(row, index)
            if fitted is None:
                return None, taken
            row = fitted
        return row, taken


def _unescape(parts: list[str]) -> list[str] | None:
    """Undo "" escapes in split fields; None when a lone quote shows the split was wrong."""
    out = []
    for part in parts:
        if '"' in part:
            if '"' in part.replace('""', ""):
                return None
            part = part.replace('""', '"')
        out.append(part)
    return out


class CsvRecords:
    """Iterate records with the C csv reader (minimally quoted files).

    Same contract as Records, without skipping: a broken row raises
    BrokenRecord. `line_of` is exact for the record being read.
    """

    def __init__(
        self,
        chunks: Iterator[str],
        *,
        delimiter: str,
        width: int,
        first_line: int,
        ragged: bool = False,
    ) -> None:
        self._chunks = chunks
        self._delim = delimiter
        self._width = width
        self._first_line = first_line
        self._ragged = ragged
        self._reader: Any = None
        self._start = 0
        self.skipped = 0
        self.skipped_lines: list[int] = []
        self.records = 0

    def line_of(self, index: int) -> int:
        """Return the physical line of the record being read (index is for the API)."""
        return self._first_line + self._start

    def __iter__(self) -> Iterator[list[str]]:
        lines = chain.from_iterable(io.StringIO(c + "\n") for c in self._chunks)
        reader = self._reader = csv.reader(lines, delimiter=self._delim, strict=True)
        width = self._width
        k = 0
        try:
            for row in reader:
                if len(row) != width:
                    if not row:
                        self._start = reader.line_num
                        continue
                    fitted = self._fit(row, reader.line_num)
                    if fitted is None:
                        continue
                    row = fitted
                k += 1
                yield row
                self._start = reader.line_num
        except csv.Error as exc:
            raise BrokenRecord(self._first_line + self._start, _csv_message(exc)) from None
        self.records = k

    def _fit(self, row: list[str], line_num: int) -> list[str] | None:
        width = self._width
        if self._ragged:
            return row + [""] * (width - len(row)) if len(row) < width else row[:width]
        if len(row) > width and not any(row[width:]):
            return row[:width]
        raise BrokenRecord(
            self._first_line + self._start, f"expected {width} fields, found {len(row)}"
        )


def split_header(chunks: Iterator[str], header_line: int) -> tuple[str | None, Iterator[str]]:
    """Return line `header_line` (1-based) and the chunks of text after it."""
    seen = 0
    for chunk in chunks:
        lines = chunk.split("\n", header_line - seen)
        if seen + len(lines) > header_line:
            return lines[header_line - seen - 1], chain([lines[-1]], chunks)
        seen += len(lines)
        if seen == header_line:
            return lines[-1], chunks
    return None, iter(())
