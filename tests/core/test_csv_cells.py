from __future__ import annotations

import io

import pytest

from crm.core.csv_cells import safe_cell, write_csv_rows


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
        (1.5, 1.5),
        (None, None),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_escaped(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


def test_written_csv_escapes_formula_cells_and_keeps_numbers() -> None:
    out = io.StringIO()
    write_csv_rows(out, [["domain", "title", "dr"], ["a.com", "=cmd|' /C calc'!A0", -1]])
    assert out.getvalue() == "domain,title,dr\na.com,'=cmd|' /C calc'!A0,-1\n"
