"""Stream the links of an inspected export, as the reducer's raw tuples or LinkRows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from crm.gap.exports.base import (
    EVIDENCE_FIELDS,
    EVIDENCE_SEP,
    DomainFolder,
    ExportFormat,
    RawLink,
    broken_record_error,
)
from crm.gap.exports.detect import FORMAT_BY_ID
from crm.gap.exports.errors import ExportError
from crm.gap.exports.model import Evidence, ExportInfo, LinkRow, rel_text
from crm.gap.exports.records import BrokenRecord, CsvRecords, Records, split_header
from crm.gap.exports.textio import LineReader, Source, parse_line, sniff_encoding
from crm.gap.exports.values import parse_date, parse_http_code


@dataclass(slots=True)
class ReadStats:
    """What reading one export found, filled in as it streams."""

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


def iter_raw_links(
    info: ExportInfo,
    folder: DomainFolder | None = None,
    stats: ReadStats | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[RawLink]:
    """Stream the raw link tuples of an inspected export (the reducer's fast path).

    `on_read` is told the size of every block of bytes read (progress).
    """
    fmt = FORMAT_BY_ID[info.format_id]
    folder = folder if folder is not None else DomainFolder()
    source = Source(info.path, info.display_name, info.member)
    with source.open_binary() as raw:
        head = raw.read(4)
        codec, bom = sniff_encoding(head)
        if on_read is not None:
            on_read(len(head))
        reader = LineReader(raw, codec, info.display_name, prefix=head[bom:], on_read=on_read)
        found, chunks = split_header(reader.chunks(), info.header_line)
        header = _check_header_line(info, found)
        records = _records(info, fmt, chunks, header)
        try:
            yield from fmt.links(info, records, folder)
        except BrokenRecord as exc:
            raise broken_record_error(info, exc) from None
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


def evidence_from_text(text: str) -> Evidence:
    """Build an Evidence from the joined text an evidence builder made."""
    values = text.split(EVIDENCE_SEP)
    if len(values) != len(EVIDENCE_FIELDS):  # a separator inside a cell: keep what is sure
        return Evidence(page_url=values[0])
    (
        url,
        title,
        target,
        anchor,
        first_seen,
        last_seen,
        http_code,
        language,
        page_type,
        page_category,
        rel,
        lost,
    ) = values
    return Evidence(
        page_url=url,
        title=title or None,
        target_url=target or None,
        anchor=anchor or None,
        rel=rel_text(int(rel)),
        first_seen=parse_date(first_seen),
        last_seen=parse_date(last_seen),
        http_code=parse_http_code(http_code),
        lost=lost or None,
        language=language or None,
        page_type=page_type or None,
        page_category=page_category or None,
    )


def read_links(info: ExportInfo, stats: ReadStats | None = None) -> Iterator[LinkRow]:
    """Stream the links of an inspected export as LinkRow values (ExportError on bad input)."""
    build = FORMAT_BY_ID[info.format_id].evidence_builder(info)
    for (
        domain,
        site,
        backlinks,
        authority,
        traffic,
        rel,
        spam,
        lost,
        language,
        _,
        _,
        row,
    ) in iter_raw_links(info, stats=stats):
        yield LinkRow(
            domain,
            site,
            backlinks,
            authority,
            traffic,
            rel,
            spam,
            lost,
            language or None,
            evidence_from_text(build(row, rel, lost)) if row is not None else None,
        )
