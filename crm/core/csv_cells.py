"""CSV the app writes: cells a spreadsheet would run as a formula are escaped.

OWASP's rule: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with a single quote, so opening an export in a spreadsheet
never runs what a prospect's page title or an inbound subject carried in.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Return a cell a spreadsheet shows as text; numbers and None pass through."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv_rows(out: TextIO, rows: Iterable[Iterable[Any]]) -> None:
    """Write rows to `out` as CSV with every text cell made safe."""
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
