"""Read ids and whole numbers from outside input (paths, query strings, form fields)."""

from __future__ import annotations

from typing import Any

# Ids and counts are INTEGER columns: 32 bits on PostgreSQL. A bigger number names
# no object and counts nothing; compared with such a column it would be an "integer
# out of range" error on PostgreSQL (past 64 bits, an OverflowError on SQLite).
MAX_INTEGER = 2**31 - 1
MAX_ID = MAX_INTEGER


def _digits(raw: Any, maximum: int) -> int | None:
    """Return a whole number of 0 or more, or None; one past `maximum` is maximum + 1."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return min(raw, maximum + 1) if raw >= 0 else None
    if not (isinstance(raw, str) and (text := raw.strip()).isascii() and text.isdigit()):
        return None  # "²" and "١" are digits to str.isdigit(), not to int()
    # Bounded before int(): Python refuses to convert over 4,300 digits (ValueError).
    digits = text.lstrip("0")
    if len(digits) > len(str(maximum)):
        return maximum + 1
    return min(int(digits or "0"), maximum + 1)


def parse_id(raw: Any) -> int | None:
    """Read an id from a path, query or form value; None when it cannot name an object."""
    value = _digits(raw, MAX_ID)
    return value if value is not None and 0 < value <= MAX_ID else None


def parse_whole(raw: Any, *, maximum: int = MAX_INTEGER) -> int | None:
    """Read a whole number (0 or more) from outside input; one past `maximum` reads as it.

    A threshold of 10**30 means "none match", which `maximum` still says; returning
    None would drop the filter and show everything.
    """
    value = _digits(raw, maximum)
    return None if value is None else min(value, maximum)
