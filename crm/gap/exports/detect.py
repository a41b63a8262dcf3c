"""Find out what an export is: format, encoding, delimiter, header line, owner.

`inspect_export` reads only the first lines (a ZIP: each CSV in it), so the
import page can show what it detected per file before anything runs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from itertools import islice
from pathlib import Path

from crm.core.domains import DomainError, registrable_domain
from crm.gap.exports import ahrefs, gsc, majestic, moz, semrush
from crm.gap.exports.errors import ExportError, OwnerUnknown
from crm.gap.exports.formats import ExportFormat, Match, header_key
from crm.gap.exports.generic import GENERIC, MappingError
from crm.gap.exports.model import ExportInfo
from crm.gap.exports.owners import majority_domain, site_from_file_name
from crm.gap.exports.records import Records
from crm.gap.exports.textio import (
    DELIMITERS,
    LineReader,
    Source,
    encoding_label,
    open_sources,
    parse_line,
    sniff_encoding,
)

FORMATS: tuple[ExportFormat, ...] = (
    *ahrefs.FORMATS,
    *semrush.FORMATS,
    *majestic.FORMATS,
    *moz.FORMATS,
    *gsc.FORMATS,
)
FORMAT_BY_ID: dict[str, ExportFormat] = {f.id: f for f in (*FORMATS, GENERIC)}

# Preamble lines tolerated before the header (legacy Moz has 6).
HEADER_SEARCH_LINES = 12
PREVIEW_LINES = 400
# Characters of preview at most: 400 lines near the line limit would be 400 MB.
PREVIEW_CHARS = 4 << 20
OWNER_SAMPLE_ROWS = 50
_PREAMBLE_SITE = re.compile(r"(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?", re.IGNORECASE)


def format_choices() -> list[tuple[str, str]]:
    """Return (id, label) of every format, for a format hint picker."""
    return [(f.id, f.label) for f in (*FORMATS, GENERIC)]


def inspect_export(
    path: str | Path,
    *,
    display_name: str | None = None,
    owner: str | None = None,
    mapping: Mapping[str, str] | None = None,
    format_id: str | None = None,
) -> ExportInfo:
    """Find out what an export is without reading it all.

    `owner` is the DOMAIN of `DOMAIN=PATH`; `mapping` (our field -> their
    column) reads the file as a generic CSV; `format_id` forces a format when
    a header fits several. A ZIP is searched for the CSV that is an export
    (GSC's "Top linking sites" first). Raises ExportError.
    """
    if format_id is not None and format_id not in FORMAT_BY_ID:
        known = ", ".join(FORMAT_BY_ID)
        raise ExportError(
            display_name or Path(path).name,
            None,
            None,
            f"unknown format {format_id!r} (known: {known})",
        )
    sources = open_sources(path, display_name)
    found: list[ExportInfo] = []
    problems: list[ExportError] = []
    for source in sources:
        try:
            found.append(_inspect_source(source, owner, mapping, format_id))
        except ExportError as exc:
            problems.append(exc)
    if not found:
        if len(problems) == 1:
            raise problems[0]
        names = ", ".join(s.member or s.display_name for s in sources)
        raise ExportError(
            display_name or Path(path).name,
            None,
            None,
            f"no CSV in the ZIP is a known export ({names}); the first says: {problems[0].message}",
        )
    for info in found:
        if info.format_id == gsc.GscTopLinkingSites.id:
            return info
    return found[0]


def _delimiter_order(line: str) -> list[str]:
    counts = sorted(((line.count(d), d) for d in DELIMITERS), reverse=True)
    order = [d for n, d in counts if n]
    return order or [","]


def _find_header(
    lines: Sequence[str],
    source: Source,
    mapping: Mapping[str, str] | None,
    format_id: str | None,
) -> tuple[int, str, list[str], Match]:
    formats = (FORMAT_BY_ID[format_id],) if format_id else FORMATS
    first: tuple[int, str, list[str]] | None = None
    for index, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        if not line.strip():
            continue
        for delimiter in _delimiter_order(line):
            header = parse_line(line, delimiter)
            if first is None:
                first = (index, delimiter, header)
            keys = [header_key(h) for h in header]
            if mapping is not None:
                if all(header_key(c) in keys for c in mapping.values()):
                    try:
                        return index, delimiter, header, GENERIC.match_mapping(header, mapping)
                    except MappingError as exc:
                        raise ExportError(source.display_name, index + 1, None, str(exc)) from None
                continue
            matches = [m for f in formats if (m := f.match(header, keys)) is not None]
            if matches:
                best = max(matches, key=lambda m: m.score)
                return index, delimiter, header, best
    if first is None:
        raise ExportError(source.display_name, None, None, "the file is empty")
    index, delimiter, header = max(
        (
            (i, d, parse_line(lines[i], d))
            for i in range(len(lines[:HEADER_SEARCH_LINES]))
            if lines[i].strip()
            for d in _delimiter_order(lines[i])[:1]
        ),
        key=lambda t: len(t[2]),
    )
    if mapping is not None:
        try:
            GENERIC.match_mapping(header, mapping)
        except MappingError as exc:
            raise ExportError(source.display_name, index + 1, None, str(exc)) from None
    keys = [header_key(h) for h in header]
    found = ", ".join(f'"{h.strip()}"' for h in header[:40])
    closest = max(formats, key=lambda f: f.partial_score(keys))
    if closest.partial_score(keys) >= 0.5 and closest.required:
        missing = ", ".join(f'"{m}"' for m in closest.missing(keys))
        if missing:
            raise ExportError(
                source.display_name,
                index + 1,
                None,
                f"looks like {closest.label} but the required column(s) {missing} "
                f"are missing; found: {found}",
            )
    raise ExportError(
        source.display_name,
        index + 1,
        None,
        f"not an export Linkgap knows (columns: {found}); choose the format, "
        "or map its columns as a generic CSV",
    )


def _preview(source: Source) -> tuple[str, list[str], bool, float]:
    """Return (codec, first lines, whether that is all of them, bytes per char)."""
    with source.open_binary() as raw:
        head = raw.read(4)
        codec, bom = sniff_encoding(head)
        reader = LineReader(raw, codec, source.display_name, prefix=head[bom:])
        it = iter(reader)
        lines: list[str] = []
        chars = 0
        for line in it:
            lines.append(line)
            chars += len(line)
            if len(lines) == PREVIEW_LINES or chars > PREVIEW_CHARS:
                break
        complete = next(it, None) is None
    sample = "\n".join(lines[:50])
    if codec.startswith("utf-16"):
        per_char = 2.0
    else:
        per_char = len(sample.encode("utf-8")) / max(len(sample), 1)
    return codec, lines, complete, per_char


def _source_size(source: Source) -> int:
    if source.member is None:
        return Path(source.path).stat().st_size
    with zipfile.ZipFile(source.path) as archive:
        return archive.getinfo(source.member).file_size


def _inspect_source(
    source: Source, owner: str | None, mapping: Mapping[str, str] | None, format_id: str | None
) -> ExportInfo:
    codec, lines, complete, per_char = _preview(source)
    if not any(line.strip() for line in lines):
        raise ExportError(source.display_name, None, None, "the file is empty")
    index, delimiter, header, match = _find_header(lines, source, mapping, format_id)
    fmt = match.format
    header_line = index + 1
    columns = dict(match.columns)
    variant = match.variant
    if header_line > 1 and isinstance(fmt, moz.MozLinkingDomains):
        variant = "legacy Open Site Explorer"
    label = f"{fmt.label} ({variant})" if variant else fmt.label

    data = lines[index + 1 :]
    records = Records(
        iter(data),
        delimiter=delimiter,
        width=len(header),
        first_line=header_line + 1,
        skip_broken=True,
        ragged=True,
    )
    sample = list(islice(iter(records), OWNER_SAMPLE_ROWS))

    owners, owner_source = _owners(source, fmt, match, columns, owner, sample, lines[:index])
    size = _source_size(source)
    if complete:
        estimate = len(
            list(
                Records(
                    iter(data),
                    delimiter=delimiter,
                    width=len(header),
                    first_line=header_line + 1,
                    skip_broken=True,
                    ragged=True,
                )
            )
        )
    else:
        chars = sum(len(line) + 1 for line in data) or 1
        estimate = int(size / (chars * per_char / max(len(data), 1)))
    return ExportInfo(
        path=source.path,
        display_name=source.display_name,
        format_id=fmt.id,
        label=label,
        encoding=encoding_label(codec),
        delimiter=delimiter,
        header=tuple(header),
        header_line=header_line,
        owners=owners,
        owner_source=owner_source,
        columns=columns,
        site_columns=match.site_columns,
        member=source.member,
        mapping=dict(mapping) if mapping is not None else None,
        rows_estimate=estimate,
        size=size,
    )


def _owners(
    source: Source,
    fmt: ExportFormat,
    match: Match,
    columns: dict[str, int],
    owner: str | None,
    sample: list[list[str]],
    preamble: list[str],
) -> tuple[tuple[str, ...], str]:
    if match.site_columns:
        return tuple(dict.fromkeys(site for site, _ in match.site_columns)), "columns"
    if owner is not None and owner.strip():
        try:
            return (registrable_domain(owner),), "explicit"
        except DomainError as exc:
            raise ExportError(
                source.display_name,
                None,
                None,
                f"the owner domain {owner!r} is not a domain: {exc}",
            ) from None
    target = columns.get("target", columns.get("target_url"))
    if target is not None:
        site = majority_domain(row[target] for row in sample if target < len(row))
        if site is not None:
            return (site,), "target-url"
    for name in (source.member, source.display_name, Path(source.path).name):
        if name and (site := site_from_file_name(name)) is not None:
            return (site,), "file-name"
    for line in preamble:
        hit = _PREAMBLE_SITE.search(line)
        if hit:
            try:
                return (registrable_domain(hit.group(0)),), "preamble"
            except DomainError:
                continue
    raise OwnerUnknown(
        source.display_name,
        fmt.id,
        "cannot tell whose export this is: it has no Target URL column and its "
        "file name does not start with the site's domain",
    )
