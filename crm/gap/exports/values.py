"""Parse the cells of an export: numbers, booleans, dates, domains.

Every parser treats an empty (or blank) cell as missing and returns None;
anything it cannot read raises ValueError whose message is the human part of
an ExportError ("expected a number, got "—""). Evidence-only cells (dates,
HTTP codes) are read leniently: unreadable means missing, not a failed
import, since they only decorate a link.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date

from crm.core.domains import DomainError, registrable_domain

_BOOLS = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
    "t": True,
    "f": False,
}
# Exact spellings the hot loops look up without normalising first.
FAST_BOOLS: dict[str, bool | None] = {"": None}
for _word, _value in _BOOLS.items():
    for _spelling in (_word, _word.upper(), _word.capitalize()):
        FAST_BOOLS[_spelling] = _value

# Thousands separators seen in GSC exports across locales: 1,240 1.240
# 1 240 (NBSP / narrow NBSP) 1'240 1’240.
_GROUPED = re.compile(r"^\d{1,3}(?:([,.\u00a0\u202f '’])\d{3})?(?:\1\d{3})*$")


def _shown(text: str) -> str:
    text = text.strip()
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


def parse_bool(text: str) -> bool | None:
    """Read true/false, yes/no, 1/0 (any case); empty is None."""
    value = FAST_BOOLS.get(text)
    if value is not None or text == "":
        return value
    key = text.strip().casefold()
    if not key:
        return None
    try:
        return _BOOLS[key]
    except KeyError:
        raise ValueError(f"expected true/false or yes/no, got {_shown(text)}") from None


def parse_flag(text: str) -> bool:
    """Read a Majestic-style flag: set when the cell holds anything."""
    key = text.strip()
    if not key:
        return False
    value = FAST_BOOLS.get(key)
    return True if value is None else value


def parse_number(text: str) -> float | None:
    """Read a plain decimal number (no thousands separators)."""
    key = text.strip()
    if not key:
        return None
    try:
        value = float(key)
    except ValueError:
        raise ValueError(f"expected a number, got {_shown(text)}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a number, got {_shown(text)}")
    return value


def parse_authority(text: str) -> float | None:
    """Read an authority score (DR, DA, AS, TF): a number from 0 to 100."""
    value = parse_number(text)
    if value is not None and not 0.0 <= value <= 100.0:
        raise ValueError(f"expected a score from 0 to 100, got {_shown(text)}")
    return value


def parse_percent(text: str) -> float | None:
    """Read a percentage such as `12%` or `12` (0 to 100)."""
    return parse_authority(text.strip().removesuffix("%").strip())


def parse_count(text: str) -> int | None:
    """Read a non-negative whole number written without separators."""
    key = text.strip()
    if not key:
        return None
    if key.isdecimal():
        return int(key)
    try:
        value = float(key)
    except ValueError:
        value = math.nan
    if value.is_integer() and value >= 0:
        return int(value)
    if _GROUPED.match(key):
        raise ValueError(f"expected a whole number without separators, got {_shown(text)}")
    raise ValueError(f"expected a whole number, got {_shown(text)}")


def parse_grouped_count(text: str) -> int | None:
    """Read a count that may carry thousands separators (GSC: "1,240")."""
    key = text.strip()
    if not key:
        return None
    if key.isdecimal():
        return int(key)
    if _GROUPED.match(key):
        return int(re.sub(r"\D", "", key))
    raise ValueError(f"expected a whole number, got {_shown(text)}")


def parse_date(text: str) -> date | None:
    """Read the date of `YYYY-MM-DD[ HH:MM:SS]`, `DD/MM/YYYY` or similar; else None."""
    key = text.strip()
    if len(key) < 8:
        return None
    try:
        return date.fromisoformat(key[:10])
    except ValueError:
        pass
    match = re.match(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})", key)
    if match:
        first, second, year = (int(g) for g in match.groups())
        # Day first unless that is impossible (US month/day order).
        day, month = (first, second) if second <= 12 else (second, first)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def parse_http_code(text: str) -> int | None:
    """Read an HTTP status code; anything else is None."""
    key = text.strip()
    return int(key) if len(key) == 3 and key.isascii() and key.isdigit() else None


def parse_domain(text: str) -> str:
    """Return the registrable domain of a host or URL cell."""
    if not text.strip():
        raise ValueError("this cell must not be empty")
    try:
        return registrable_domain(text)
    except DomainError:
        raise ValueError(f"expected a domain or URL, got {_shown(text)}") from None


def _text(text: str) -> str:
    return text


# What each kind of column must hold; used to explain a row the fast path refused.
CHECKS: dict[str, Callable[[str], object]] = {
    "domain": parse_domain,
    "authority": parse_authority,
    "percent": parse_percent,
    "count": parse_count,
    "grouped_count": parse_grouped_count,
    "bool": parse_bool,
    "flag": parse_flag,
    "number": parse_number,
    "text": _text,
}
