"""DuckDB's generated SQL and the careful reader type every cell of a real-format file alike,
or refuse the same row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from crm.gap.exports import FORMAT_BY_ID, ExportError, inspect_export
from crm.gap.exports.reader import read_cells
from crm.gap.exports.sql import read_csv_sql, typed_cells_sql
from crm.gap.sample_exports import AHREFS_REFDOMAINS_HEADER, SEMRUSH_REFDOMAINS_HEADER
from tests.gap.exports.tricky import FILES, cells, file_with, same
from tests.gap.writers import AHREFS_HEADER, SEMRUSH_HEADER, csv_text


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
            with duckdb.connect() as con:
                select = typed_cells_sql(fmt, info, read_csv_sql(info, str(path)))
                duck = con.execute(select).fetchall()
        except duckdb.Error:
            return  # DuckDB's CSV grammar is stricter: the careful reader reads the file
        careful: list[list[object]] = []
        try:
            careful.extend(read_cells(info))
        except ExportError as exc:
            bad_row = len(careful)  # the rows before it were read
            assert duck[bad_row][-1] or exc.column in _url_columns(fmt, info)
            assert not any(row[-1] for row in duck[:bad_row])
            return
        assert len(careful) == len(duck)
        for mine, theirs in zip(careful, duck, strict=True):
            assert not theirs[-1]
            assert all(same(a, b) for a, b in zip(mine, theirs[:-1], strict=True)), (mine, theirs)


def _url_columns(fmt: Any, info: Any) -> set[str]:
    """Headers of URL cells: DuckDB leaves checking them to the fold (crm.gap.exports.table)."""
    kinds = fmt.kinds(info)
    return {
        info.header[fmt.cell_index(info, name)]
        for name, kind in kinds.items()
        if kind.name == "url"
    }


def _rows(width: int, fixed: dict[int, str]) -> st.SearchStrategy[list[list[str]]]:
    row = st.lists(cells, min_size=width, max_size=width).map(
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
