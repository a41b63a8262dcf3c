"""The careful reader: an export's typed cells, record by record, naming the file, line and
column of the first cell its kind refuses.

It reads the small formats, and any file DuckDB refuses, to say exactly where
and why (crm.gap.exports.table). Each cell goes through its kind's parser
(crm.gap.exports.cells), the same rule DuckDB applies in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from crm.gap.exports.detect import FORMAT_BY_ID
from crm.gap.exports.errors import ExportError
from crm.gap.exports.formats import ExportFormat
from crm.gap.exports.model import ExportInfo
from crm.gap.exports.records import BrokenRecord, CsvRecords, Records, split_header
from crm.gap.exports.textio import LineReader, Source, parse_line, sniff_encoding


@dataclass(slots=True)
class ReadStats:
    """What reading one export found: its records, and the broken rows skipped (Majestic)."""

    records: int = 0
    skipped: int = 0
    skipped_lines: list[int] = field(default_factory=list)


def _records(
    info: ExportInfo, fmt: ExportFormat, chunks: Iterator[str], raw_header: str
) -> Records | CsvRecords:
    """Pick how to split this file: str.split for fully quoted files, else the C csv reader."""
    fully_quoted = raw_header.startswith('"') and raw_header.endswith('"')
    first = info.header_line + 1
    if fmt.skip_broken or fully_quoted:
        # Records also re-reads the lines a skipped broken row swallowed, which csv cannot.
        lines = chain.from_iterable(chunk.split("\n") for chunk in chunks)
        return Records(
            lines,
            delimiter=info.delimiter,
            width=len(info.header),
            first_line=first,
            skip_broken=fmt.skip_broken,
            ragged=fmt.ragged,
        )
    return CsvRecords(
        chunks,
        delimiter=info.delimiter,
        width=len(info.header),
        first_line=first,
        ragged=fmt.ragged,
    )


def read_cells(
    info: ExportInfo,
    stats: ReadStats | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[list[object]]:
    """Stream each record's typed cells, in the order of the format's `kinds(info)`.

    Raises ExportError naming file, line and column at the first bad cell or
    broken row. `on_read` is told the size of every block of bytes read.
    """
    fmt = FORMAT_BY_ID[info.format_id]
    plan = [(kind.parse, fmt.cell_index(info, name)) for name, kind in fmt.kinds(info).items()]
    source = Source(info.path, info.display_name, info.member)
    with source.open_binary() as raw:
        head = raw.read(4)
        codec, bom = sniff_encoding(head)
        if on_read is not None:
            on_read(len(head))
        reader = LineReader(raw, codec, info.display_name, prefix=head[bom:], on_read=on_read)
        found, chunks = split_header(reader.chunks(), info.header_line)
        records = _records(info, fmt, chunks, _check_header_line(info, found))
        try:
            for index, parts in enumerate(records):
                row = []
                for parse, at in plan:
                    try:
                        row.append(parse(parts[at] if at is not None else ""))
                    except ValueError as exc:
                        column = info.header[at] if at is not None else None
                        line = records.line_of(index)
                        raise ExportError(info.display_name, line, column, str(exc)) from None
                yield row
        except BrokenRecord as exc:
            raise ExportError(info.display_name, exc.line, None, exc.message) from None
        if stats is not None:
            stats.records = records.records
            stats.skipped = records.skipped
            stats.skipped_lines = list(records.skipped_lines)


def _check_header_line(info: ExportInfo, header: str | None) -> str:
    if header is None or tuple(parse_line(header, info.delimiter)) != info.header:
        raise ExportError(
            info.display_name,
            info.header_line,
            None,
            "the file changed since it was inspected; add it again",
        )
    return header


def check_header(info: ExportInfo) -> None:
    """Raise ExportError when the file's header is no longer the inspected one."""
    source = Source(info.path, info.display_name, info.member)
    with source.open_binary() as raw:
        head = raw.read(4)
        codec, bom = sniff_encoding(head)
        reader = LineReader(raw, codec, info.display_name, prefix=head[bom:])
        header, _ = split_header(reader.chunks(), info.header_line)
        _check_header_line(info, header)
