"""Every kind of cell is one rule: DuckDB reads each cell as its careful parser does,
numbers like nan, inf, 1e309 and -0 included."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from crm.gap.exports.cells import AUTHORITY, BOOL, COUNT_KIND, TEXT, Kind, sql_strip
from tests.gap.exports.tricky import FUZZ, cells, same

KINDS = (AUTHORITY, COUNT_KIND, BOOL, TEXT)


def _careful(kind: Kind, text: str) -> tuple[object, bool]:
    try:
        return kind.parse(text), False
    except ValueError:
        return None, True


@FUZZ
@given(st.lists(cells, min_size=1, max_size=30))
def test_duckdb_reads_every_cell_as_its_kinds_careful_parser(values: list[str]) -> None:
    with duckdb.connect() as con:
        for kind in KINDS:
            assert kind.sql is not None
            column = "(SELECT unnest($1::VARCHAR[]) AS c)"
            prepared = f"(SELECT {kind.prepare(sql_strip('c'))} AS s FROM {column})"
            rows = con.execute(
                f"SELECT v, {kind.bad_sql('s', 'v')} "
                f"FROM (SELECT s, {kind.sql('s')} AS v FROM {prepared})",
                [values],
            ).fetchall()
            for text, (value, bad) in zip(values, rows, strict=True):
                expected, refused = _careful(kind, text)
                assert bad == refused, (kind.name, text)
                if not refused:
                    assert same(expected, value), (kind.name, text, expected, value)
