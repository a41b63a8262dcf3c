"""Fuzz the readers: whatever the bytes, nothing but ExportError escapes; and DuckDB reads
every cell exactly as the careful reader does — the same value, or the same refusal."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.gap.exports import FORMAT_BY_ID, ExportError, inspect_export, read_links
from crm.gap.exports.cells import AUTHORITY, BOOL, COUNT_KIND, TEXT, Kind, sql_strip
from crm.gap.exports.reader import read_cells
from crm.gap.exports.sql import read_csv_sql, typed_cells_sql
from crm.gap.sample_exports import (
    AHREFS_REFDOMAINS_HEADER,
    SEMRUSH_REFDOMAINS_HEADER,
)
from tests.gap.writers import AHREFS_HEADER, SAMPLES, SEMRUSH_HEADER, csv_text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILES = settings(FUZZ, max_examples=60)
SEEDS = [p.read_bytes() for p in sorted(SAMPLES.glob("*.csv"))]
# Cells that tell a careless number or boolean reader from a careful one.
TRICKY = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400",
    "2.5e-324", "-0", "+0", "-0.0", "0x10", "1_000", "١٢", "５", "5.", ".5", "+5", "1e3", "1E+2",
    "100", "100.0", "100.0000000000001", "100.00000000000001", "-0.00000001", "4.7", "58",
    " 7 ", "\t7\t", "\u00a07", "7\u2003", "1,240", "1.240", "1 240", "—", "n/a", "2147483647",
    "2147483648", "9999999999", "99999999999", "007", "3.0", "3.00", "3.5", "-3", "true",
    "TRUE", "tRuE", "Yes", "nO", "y", "F", "ſalse", "İ", "K", "2", "on", "\x0b1\x0c",
]  # fmt: skip
SQL_KINDS = (AUTHORITY, COUNT_KIND, BOOL, TEXT)
# One connection for every example: opening one costs tens of milliseconds.
DUCK = duckdb.connect()


@contextmanager
def file_with(data: bytes, name: str = "rival.com-backlinks_refdomains.csv") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def read_everything(path: Path, **kwargs: object) -> None:
    try:
        info = inspect_export(path, **kwargs)  # type: ignore[arg-type]
        for link in read_links(info):
            if link.evidence is not None:
                assert link.evidence.page_url is not None
    except ExportError as exc:
        assert str(exc).startswith(exc.file)


@FUZZ
@given(
    st.binary(max_size=400),
    st.sampled_from([b"", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"PK\x03\x04"]),
)
def test_random_bytes_raise_only_export_error(data: bytes, prefix: bytes) -> None:
    with file_with(prefix + data) as path:
        read_everything(path)


@FUZZ
@given(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=6)), min_size=1, max_size=6),
)
def test_mutated_real_exports_raise_only_export_error(
    seed: int, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(SEEDS[seed])
    for at, insert in edits:
        at %= len(data) + 1
        data[at : at + len(insert) // 2] = insert
    with file_with(bytes(data)) as path:
        read_everything(path, owner="rival.com")


def _same(careful: object, duck: object) -> bool:
    if isinstance(careful, float) and isinstance(duck, float):
        return careful == duck and math.copysign(1, careful) == math.copysign(1, duck)
    return careful == duck and type(careful) is type(duck)


def _careful(kind: Kind, text: str) -> tuple[object, bool]:
    try:
        return kind.parse(text), False
    except ValueError:
        return None, True


_text = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8
)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(TRICKY), _text), min_size=1, max_size=30))
def test_duckdb_reads_every_cell_as_its_kinds_careful_parser(values: list[str]) -> None:
    for kind in SQL_KINDS:
        assert kind.sql is not None
        cells = "(SELECT unnest($1::VARCHAR[]) AS c)"
        prepared = f"(SELECT {kind.prepare(sql_strip('c'))} AS s FROM {cells})"
        rows = DUCK.execute(
            f"SELECT v, {kind.bad_sql('s', 'v')} FROM (SELECT s, {kind.sql('s')} AS v FROM "
            f"{prepared})",
            [values],
        ).fetchall()
        for text, (value, bad) in zip(values, rows, strict=True):
            expected, refused = _careful(kind, text)
            assert bad == refused, (kind.name, text)
            if not refused:
                assert _same(expected, value), (kind.name, text, expected, value)


_cell = st.one_of(st.sampled_from(TRICKY), _text)


def _compare_readers(header: Sequence[str], rows: list[list[str]], **csv: object) -> None:
    """The careful reader and DuckDB type every cell alike, or both refuse the same row."""
    with file_with(csv_text(header, rows, **csv).encode(), "rival.com-backlinks.csv") as path:
        try:
            info = inspect_export(path, owner="rival.com")
        except ExportError:
            return
        fmt = FORMAT_BY_ID[info.format_id]
        assert fmt.read_by_duckdb(info)
        try:
            duck = DUCK.execute(
                typed_cells_sql(fmt, info, read_csv_sql(info, str(path)))
            ).fetchall()
        except duckdb.Error:
            return  # DuckDB's CSV grammar is stricter: the careful reader reads the file
        careful: list[list[object]] = []
        try:
            careful.extend(read_cells(info))
        except ExportError as exc:
            assert exc.line is not None
            bad_row = exc.line - info.header_line - 1
            assert duck[bad_row][-1] or exc.column in _url_columns(fmt, info)
            assert not any(row[-1] for row in duck[:bad_row])
            return
        assert len(careful) == len(duck)
        for mine, theirs in zip(careful, duck, strict=True):
            assert not theirs[-1]
            assert all(_same(a, b) for a, b in zip(mine, theirs[:-1], strict=True)), (mine, theirs)


def _url_columns(fmt: object, info: object) -> set[str]:
    """Headers of URL cells: DuckDB leaves checking them to the fold (crm.gap.exports.table)."""
    kinds = fmt.kinds(info)  # type: ignore[attr-defined]
    return {
        info.header[fmt.cell_index(info, name)]  # type: ignore[attr-defined]
        for name, kind in kinds.items()
        if kind.name == "url"
    }


def _rows(width: int, fixed: dict[int, str]) -> st.SearchStrategy[list[list[str]]]:
    row = st.lists(_cell, min_size=width, max_size=width).map(
        lambda cells: [fixed.get(i, c) for i, c in enumerate(cells)]
    )
    return st.lists(row, min_size=1, max_size=6)


@FILES
@given(_rows(len(AHREFS_HEADER), {1: "https://x.com/p", 13: "https://rival.com/page"}))
def test_ahrefs_backlinks_cells_read_alike_by_both_readers(rows: list[list[str]]) -> None:
    _compare_readers(AHREFS_HEADER, rows, delimiter="\t", quote_all=True)


@FILES
@given(_rows(len(SEMRUSH_HEADER), {2: "https://x.com/p", 3: "https://rival.com/page"}))
def test_semrush_backlinks_cells_read_alike_by_both_readers(rows: list[list[str]]) -> None:
    _compare_readers(SEMRUSH_HEADER, rows)


@FILES
@given(_rows(len(AHREFS_REFDOMAINS_HEADER), {0: "a.example.com"}))
def test_ahrefs_refdomains_cells_read_alike_by_both_readers(rows: list[list[str]]) -> None:
    _compare_readers(AHREFS_REFDOMAINS_HEADER, rows, delimiter="\t", quote_all=True)


@FILES
@given(_rows(len(SEMRUSH_REFDOMAINS_HEADER), {1: "b.example.org"}))
def test_semrush_refdomains_cells_read_alike_by_both_readers(rows: list[list[str]]) -> None:
    _compare_readers(SEMRUSH_REFDOMAINS_HEADER, rows)


@FILES
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["https://a.com/x", "http://B.org:81/", "https://bücher.de/p", "a.net",
                             "https://xn--bcher-kva.de/", "//c.co.uk/z", "HTTPS://WWW.D.IO"]),
            st.sampled_from(["", "0", "58", "4.7", "100", " 7 ", "-0", "1e1"]),
            st.sampled_from(["", "0", "3.0", "12"]),
            st.sampled_from(["true", "false", "", "TRUE", "No"]),
        ),
        min_size=1,
        max_size=8,
    )
)  # fmt: skip
def test_mostly_valid_ahrefs_rows_give_the_same_links_from_both_readers(
    rows: list[tuple[str, str, str, str]],
) -> None:
    full = []
    for url, dr, traffic, flag in rows:
        row = ["x"] * len(AHREFS_HEADER)
        row[1], row[5], row[7], row[22], row[13] = url, dr, traffic, flag, "https://r.com/"
        for i in (6, 20, 23, 24):
            row[i] = ""
        row[32] = row[27] = ""
        full.append(row)
    _compare_readers(AHREFS_HEADER, full, delimiter="\t", quote_all=True)
