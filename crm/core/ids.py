"""Read object ids from outside input (paths, query strings, form fields, stored choices)."""

from __future__ import annotations

from typing import Any

# The largest id either database can hold: a bigger number is no object (and would
# be an "integer out of range" error on PostgreSQL, not a 404).
MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(raw: Any) -> int | None:
    """Read an id from a path, query or form value; None when it cannot name an object."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and (text := raw.strip()).isascii() and text.isdigit():
        # Bounded before int(): Python refuses to convert over 4,300 digits (ValueError).
        digits = text.lstrip("0")
        if len(digits) > _MAX_DIGITS:
            return None
        value = int(digits or "0")
    else:
        return None
    return value if 0 < value <= MAX_ID else None
