"""An export problem is one human line naming file, line and column."""

from __future__ import annotations

from crm.gap.exports import ExportError


def test_error_message_is_one_line_with_file_line_and_column() -> None:
    exc = ExportError("rival-a.csv", 12, "Domain rating", 'expected a number, got "—"')
    assert str(exc) == 'rival-a.csv, line 12, column "Domain rating": expected a number, got "—"'
    assert str(ExportError("x.csv", None, None, "the file is empty")) == "x.csv: the file is empty"
