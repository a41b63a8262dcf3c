"""The rows table of the DuckDB import: one site's export cells, typed, with a face-value check.

Each row keeps what the fold needs (host key, counts, rel, rank, target) and
the evidence cells apart, so the evidence text is built only for the rows
kept. `bad` marks a row whose cells the streaming readers' fast loops would
not take as they are; one such row sends the import back to them.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Sequence

from crm.gap.exports import ExportInfo
from crm.gap.exports.base import (
    EVIDENCE_COLUMNS,
    EVIDENCE_DOFOLLOW,
    EVIDENCE_LIVE,
    EVIDENCE_SCORE_STEP,
    EVIDENCE_SEP,
)
from crm.gap.exports.textio import encoding_label

SEP = f"chr({ord(EVIDENCE_SEP)})"
_EVIDENCE_ONLY = tuple(n for n in EVIDENCE_COLUMNS if n not in ("page_url", "target", "language"))
# The evidence text's cells as the rows table holds them (see ExportFormat.evidence_builder).
EVIDENCE_TEXT = ", ".join(
    {"page_url": "r.page", "target": "r.target", "language": "r.language"}.get(n, f"r.{n}")
    for n in EVIDENCE_COLUMNS
)
# What DuckDB reads, by the encoding inspect_export found (UTF-16 is copied as UTF-8 first).
_CODECS = {encoding_label(c): c for c in ("utf-8", "utf-8-sig", "utf-16-le")}
_NUMBER = r"[0-9]{1,3}(\.[0-9]{1,6})?"


def codec_of(info: ExportInfo) -> str | None:
    """Return the codec of a file DuckDB can read (after a copy for UTF-16), else None."""
    return _CODECS.get(info.encoding)


def as_utf8(info: ExportInfo, folder: str, number: int) -> str | None:
    """Return the path of a UTF-8 copy of a UTF-16 file (else its own); None if it does not decode.

    DuckDB's own UTF-16 reader refuses characters outside the BMP (an emoji in
    a title) and is slower than Python's codec plus its UTF-8 reader.
    """
    codec = codec_of(info)
    if codec != "utf-16-le":
        return info.path
    path = os.path.join(folder, f"{number}.csv")
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        with open(info.path, "rb") as raw, open(path, "wb") as out:
            if raw.read(2) != codecs.BOM_UTF16_LE:
                raw.seek(0)
            while chunk := raw.read(8 << 20):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeError:
        return None
    return path


def _cell(info: ExportInfo, name: str) -> str:
    index = info.columns.get(name)
    return "''" if index is None else f"coalesce(c{index}, '')"


def _file_sql(number: int, info: ExportInfo, path: str) -> str:
    """Select one file's cells under the rows table's names (missing columns as '')."""
    width = len(info.header)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    path = path.replace("'", "''")
    delimiter = info.delimiter.replace("'", "''")
    source = (
        f"read_csv('{path}', encoding='utf-8', delim='{delimiter}', quote='\"', "
        f"escape='\"', header=false, skip={info.header_line}, columns={{{columns}}}, "
        "auto_detect=false, strict_mode=true, null_padding=false, parallel=true)"
    )
    site = info.owners[0].replace("'", "''")
    # The evidence-only cells, kept apart: the text is built for the few rows kept.
    extra = ", ".join(f"{_cell(info, n)} AS {n}" for n in _EVIDENCE_ONLY)
    if info.format_id == "ahrefs-backlinks":
        lost = f"({_cell(info, 'lost')} <> '' OR {_cell(info, 'lost_status')} <> '')"
        lost_bad = "false"
        lost_text = (
            f"CASE WHEN {_cell(info, 'lost_status')} <> '' THEN {_cell(info, 'lost_status')} "
            f"WHEN {_cell(info, 'drop_reason')} <> '' THEN {_cell(info, 'drop_reason')} "
            "ELSE 'lost' END"
        )
        score = _cell(info, "page_score")
        traffic = _cell(info, "traffic")
        spam = _cell(info, "spam")
        language = _cell(info, "language")
    else:
        lost = f"({_cell(info, 'lost')} = 'true')"
        lost_bad = f"({_cell(info, 'lost')} NOT IN ('', 'true', 'false'))"
        lost_text = "'lost'"
        score = _cell(info, "authority")
        traffic = spam = language = "''"
    return f"""
        SELECT {number} AS file, '{site}' AS site, {_cell(info, "page_url")} AS url,
               {_cell(info, "authority")} AS dr, {traffic} AS traffic_raw, {score} AS score,
               {_cell(info, "nofollow")} AS nf, {_cell(info, "ugc")} AS ugc,
               {_cell(info, "sponsored")} AS sp, {spam} AS spam_raw, {language} AS language,
               {_cell(info, "target")} AS target, {lost} AS lost, {lost_bad} AS lost_bad,
               {extra}, {lost_text} AS lost_text
        FROM {source}"""


def rows_sql(infos: Sequence[ExportInfo], paths: Sequence[str]) -> str:
    """Build the rows table: typed values, rank, host key and a face-value check per row."""
    files = " UNION ALL ".join(
        _file_sql(i, info, path) for i, (info, path) in enumerate(zip(infos, paths, strict=True))
    )
    flags = ("nf", "ugc", "sp")
    rel_known = " OR ".join(f"{f} <> ''" for f in flags)
    rel = (
        f"CASE WHEN {rel_known} THEN (CASE WHEN nf = 'true' THEN 1 ELSE 0 END) "
        "| (CASE WHEN ugc = 'true' THEN 2 ELSE 0 END) "
        "| (CASE WHEN sp = 'true' THEN 4 ELSE 0 END) ELSE -1 END"
    )
    bad = " OR ".join(
        (
            f"(dr <> '' AND NOT (regexp_full_match(dr, '{_NUMBER}') "
            "AND TRY_CAST(dr AS DOUBLE) <= 100))",
            f"(score <> '' AND NOT regexp_full_match(score, '{_NUMBER}'))",
            "(traffic_raw <> '' AND NOT regexp_full_match(traffic_raw, '[0-9]{1,15}'))",
            *(f"{f} NOT IN ('', 'true', 'false')" for f in flags),
            "spam_raw NOT IN ('', 'true', 'false')",
            "lost_bad",
        )
    )
    # The evidence rank of crm.gap.exports.base.evidence_rank, in whole numbers.
    step, dofollow, live = (int(v) for v in (EVIDENCE_SCORE_STEP, EVIDENCE_DOFOLLOW, EVIDENCE_LIVE))
    return f"""
        CREATE TABLE r AS
        SELECT file, site, key, url AS page, authority, traffic, rel, spam, lost, language,
               target, {", ".join(_EVIDENCE_ONLY)}, lost_text, bad,
               CAST(coalesce(floor(TRY_CAST(score AS DOUBLE) / {step}) * {step}, 0) AS BIGINT)
                 + CASE WHEN rel = 0 THEN {dofollow} ELSE 0 END
                 + CASE WHEN lost THEN 0 ELSE {live} END AS rank
        FROM (
            SELECT *,
                   CASE WHEN strpos(substr(url, 9), '/') > 0
                        THEN substr(url, 1, 7 + strpos(substr(url, 9), '/')) ELSE url END AS key,
                   TRY_CAST(dr AS DOUBLE) AS authority,
                   TRY_CAST(traffic_raw AS BIGINT) AS traffic,
                   {rel} AS rel,
                   CASE spam_raw WHEN 'true' THEN true WHEN 'false' THEN false END AS spam,
                   {bad} AS bad
            FROM ({files}) AS cells
        ) AS typed"""
