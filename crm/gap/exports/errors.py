"""The one error an export parser raises."""

from __future__ import annotations


class ExportError(Exception):
    """A problem with one export file, located as precisely as it is known.

    `str()` is one human line, e.g.
    `rival-a.csv, line 12, column "Domain rating": expected a number, got "—"`.
    """

    def __init__(self, file: str, line: int | None, column: str | None, message: str) -> None:
        super().__init__(file, line, column, message)
        self.file = file
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.message}"


class OwnerUnknown(ExportError):
    """Nothing in the file says whose export it is; the reader must be told.

    `format_id` is the format the file was recognised as, so a caller that
    knows more (Search Console exports are always of one's own property) can
    decide; `message_without_hint` lets the browser ask in its own words.
    """

    CLI_HINT = "import it as DOMAIN=PATH"

    def __init__(self, file: str, format_id: str, reason: str) -> None:
        super().__init__(file, None, None, f"{reason}; {self.CLI_HINT}")
        self.format_id = format_id
        self.reason = reason
