"""The error every service raises for bad user input: one human line, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action, with a message fit to show a user as-is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message
