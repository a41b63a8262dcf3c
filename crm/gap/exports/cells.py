"""What a cell of each kind of column must hold: one rule, read by Python and by DuckDB.

A format declares each column it reads with a kind. A kind is one rule —
a pattern, a range — rendered twice from the same constants: `parse` (the
careful reader: a typed value, or ValueError whose message is the human part
of an ExportError, e.g. `expected a number, got "—"`) and `sql` (the DuckDB
expression of the typed value) with `bad_sql` (true where `parse` would
raise). The fuzz tests hold the two renderings to each other.

Every kind strips ASCII whitespace only (the same set in Python and SQL) and
reads an empty cell as missing. Evidence-only cells (dates, HTTP codes) are
text here and read leniently when evidence is shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from crm.core.domains import DomainError, registrable_domain
from crm.core.storable import NUL_IN_FILE

WHITESPACE = " \t\n\r\x0b\x0c"
_SQL_WHITESPACE = "'" + WHITESPACE + "'"  # DuckDB takes these characters as they are
_RE_WHITESPACE = r" \t\n\r\x0b\x0c"

# A plain decimal number: digits, an optional fraction and exponent; ASCII only
# (Python's float() would also take "1_000", "inf" and Arabic-Indic digits).
NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# A whole number as tools write it: digits, maybe with a zero fraction ("12.0").
COUNT = r"[0-9]{1,10}(\.0*)?"
COUNT_MAX = 2_147_483_647  # what an INTEGER column holds on every database
SCORE_MIN, SCORE_MAX = 0.0, 100.0
# Booleans in any case; no non-ASCII letter lower-cases into these words, so
# Python's str.lower and DuckDB's lower agree on what matches.
BOOLEANS = {
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
# Thousands separators seen across locales: 1,240 1.240 1 240 (NBSP / narrow NBSP) 1'240 1’240.
_GROUPED = re.compile(r"^\d{1,3}(?:([,.\u00a0\u202f '’])\d{3})?(?:\1\d{3})*$")
_NUMBER = re.compile(NUMBER)
_COUNT = re.compile(COUNT)


def shown(text: str) -> str:
    """Quote a cell for an error message, cut to 40 characters."""
    text = text.strip(WHITESPACE)
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


def strip(text: str) -> str:
    """Strip the whitespace every kind ignores."""
    return text.strip(WHITESPACE)


def sql_strip(cell: str) -> str:
    """Return the SQL of a cell stripped as `strip` does (NULL as '').

    trim() with a character set is slow per call; most cells need none, and
    the pattern that finds the few that do is quick.
    """
    edge = f"[{_RE_WHITESPACE}]"
    return (
        f"CASE WHEN regexp_matches({cell}, '^{edge}|{edge}$') "
        f"THEN trim({cell}, {_SQL_WHITESPACE}) ELSE coalesce({cell}, '') END"
    )


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- the careful parsers ------------------------------------------------------


def parse_text(text: str) -> str:
    """Return the cell without surrounding whitespace (no text holds a NUL)."""
    _refuse_nul(text)
    return strip(text)


def _refuse_nul(text: str) -> None:
    # PostgreSQL's text cannot hold one, and no real export writes one.
    if "\x00" in text:
        raise ValueError(NUL_IN_FILE)


def _no_nul_sql(v: str) -> str:
    return f"NOT contains({v}, chr(0))"


def parse_number(text: str) -> float | None:
    """Read a plain decimal number (no thousands separators, finite)."""
    key = strip(text)
    if not key:
        return None
    if not _NUMBER.fullmatch(key) or not math.isfinite(value := float(key)):
        raise ValueError(f"expected a number, got {shown(text)}")  # 1e309 overflows to inf
    return value + 0.0  # -0 reads as 0


def parse_authority(text: str) -> float | None:
    """Read an authority score (DR, DA, AS, TF): a number from 0 to 100."""
    value = parse_number(text)
    if value is not None and not SCORE_MIN <= value <= SCORE_MAX:
        raise ValueError(f"expected a score from 0 to 100, got {shown(text)}")
    return value


def parse_count(text: str) -> int | None:
    """Read a non-negative whole number written without separators."""
    key = strip(text)
    if not key:
        return None
    if _COUNT.fullmatch(key) and (value := int(float(key))) <= COUNT_MAX:
        return value
    if _GROUPED.match(key):
        raise ValueError(f"expected a whole number without separators, got {shown(text)}")
    raise ValueError(f"expected a whole number, got {shown(text)}")


def parse_bool(text: str) -> bool | None:
    """Read true/false, yes/no, 1/0, y/n, t/f in any case; empty is None."""
    key = strip(text)
    if not key:
        return None
    try:
        return BOOLEANS[key.lower()]
    except KeyError:
        raise ValueError(f"expected true/false or yes/no, got {shown(text)}") from None


def parse_grouped_count(text: str) -> int | None:
    """Read a count that may carry thousands separators (GSC: "1,240")."""
    key = strip(text)
    if not key:
        return None
    if key.isascii() and key.isdigit():
        return int(key)
    if _GROUPED.match(key):
        return int(re.sub(r"\D", "", key))
    raise ValueError(f"expected a whole number, got {shown(text)}")


def parse_percent(text: str) -> float | None:
    """Read a percentage such as `12%` or `12` (0 to 100)."""
    return parse_authority(strip(text).removesuffix("%"))


def parse_flag(text: str) -> bool:
    """Read a Majestic-style flag: set when the cell holds anything but a false word."""
    key = strip(text)
    return bool(key) and BOOLEANS.get(key.lower(), True)


def parse_followed(text: str) -> bool | None:
    """Read a followed cell: Yes/No, or a count of followed links."""
    try:
        return parse_bool(text)
    except ValueError:
        pass
    try:
        count = parse_count(text)
    except ValueError:
        raise ValueError(f"expected Yes/No or a number, got {shown(text)}") from None
    return None if count is None else count > 0


def parse_present(text: str) -> bool:
    """Read a cell whose content is not documented: anything means yes."""
    return bool(strip(text))


def host_key(url: str) -> str:
    """Return the part of a URL that decides its domain: up to the first `/` after the scheme.

    Millions of page URLs share a few hundred thousand of these, so each is
    folded to its registrable domain once (see `host_key_sql`, its SQL twin).
    """
    cut = url.find("/", 8)
    return url[:cut] if cut > 0 else url


def host_key_sql(cell: str) -> str:
    """The SQL of `host_key` (DuckDB counts characters, as Python does)."""
    return (
        f"CASE WHEN strpos(substr({cell}, 9), '/') > 0 "
        f"THEN substr({cell}, 1, 7 + strpos(substr({cell}, 9), '/')) ELSE {cell} END"
    )


@lru_cache(maxsize=1 << 18)
def fold_key(key: str) -> str:
    """Return the registrable domain of a host key (DomainError for junk)."""
    return registrable_domain(key)


def parse_url(text: str) -> str:
    """Read a referring page URL or a host: its domain must be a registrable domain."""
    key = strip(text)
    if not key:
        raise ValueError("this cell must not be empty")
    _refuse_nul(key)
    try:
        fold_key(host_key(key))
    except DomainError:
        raise ValueError(f"expected a domain or URL, got {shown(text)}") from None
    return key


def iso_date_sql(cell: str) -> str:
    """SQL of an evidence date: `YYYY-MM-DD[ HH:MM:SS]`, or `DD/MM/YYYY` (day first unless
    impossible, then US order), as ISO text; anything else is NULL (it only decorates a link)."""
    ymd = f"TRY_CAST(regexp_extract({cell}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AS DATE)"
    parts = f"regexp_extract({cell}, '^([0-9]{{1,2}})[./-]([0-9]{{1,2}})[./-]([0-9]{{4}})', "
    first, second, year = (f"TRY_CAST({parts}{n}) AS INTEGER)" for n in (1, 2, 3))
    day_first = f"printf('%04d-%02d-%02d', {year}, {second}, {first})"
    month_first = f"printf('%04d-%02d-%02d', {year}, {first}, {second})"
    dmy = f"TRY_CAST(CASE WHEN {second} <= 12 THEN {day_first} ELSE {month_first} END AS DATE)"
    return f"strftime(coalesce({ymd}, {dmy}), '%Y-%m-%d')"


def http_code_sql(cell: str) -> str:
    """SQL of an evidence HTTP status: three digits, else NULL."""
    return f"CASE WHEN regexp_full_match({cell}, '[0-9]{{3}}') THEN CAST({cell} AS INTEGER) END"


# -- the same rules in DuckDB SQL ---------------------------------------------
# Each kind's SQL is three parts: `prepare` the cell (stripped text s), `sql` its
# typed value v from s, and `valid` (on v) whether a non-empty cell holds what it must.


def _number_sql(s: str) -> str:
    return f"CASE WHEN regexp_full_match({s}, '{NUMBER}') THEN TRY_CAST({s} AS DOUBLE) + 0.0 END"


def _score_valid(v: str) -> str:
    return f"{v} BETWEEN {SCORE_MIN} AND {SCORE_MAX}"


def _count_sql(s: str) -> str:
    whole = f"CAST(CAST({s} AS DOUBLE) AS BIGINT)"
    return f"CASE WHEN regexp_full_match({s}, '{COUNT}') THEN {whole} END"


def _count_valid(v: str) -> str:
    return f"{v} <= {COUNT_MAX}"


def _bool_prepare(s: str) -> str:
    return f"lower({s})"


def _bool_sql(s: str) -> str:
    yes = ", ".join(_sql_literal(w) for w, v in BOOLEANS.items() if v)
    no = ", ".join(_sql_literal(w) for w, v in BOOLEANS.items() if not v)
    return f"CASE WHEN {s} IN ({yes}) THEN true WHEN {s} IN ({no}) THEN false END"


def _known(v: str) -> str:
    return f"{v} IS NOT NULL"


def _as_is(s: str) -> str:
    return s


@dataclass(frozen=True)
class Kind:
    """A kind of cell: its careful parser, its DuckDB type, and its SQL (None: Python only)."""

    name: str
    parse: Callable[[str], object]
    sql_type: str
    sql: Callable[[str], str] | None = None
    valid: Callable[[str], str] | None = None
    prepare: Callable[[str], str] = _as_is

    def bad_sql(self, s: str, v: str) -> str:
        """SQL: true where the careful parser would refuse the cell (s prepared, v typed)."""
        if self.valid is None:
            return "false"
        return f"({s} <> '' AND NOT coalesce({self.valid(v)}, false))"


TEXT = Kind("text", parse_text, "VARCHAR", lambda s: s, _no_nul_sql)
# A URL or host whose registrable domain the fold computes; DuckDB checks it then.
URL = Kind("url", parse_url, "VARCHAR", lambda s: s, _no_nul_sql)
AUTHORITY = Kind("authority", parse_authority, "DOUBLE", _number_sql, _score_valid)
COUNT_KIND = Kind("count", parse_count, "BIGINT", _count_sql, _count_valid)
BOOL = Kind("bool", parse_bool, "BOOLEAN", _bool_sql, _known, _bool_prepare)
# Read by the careful reader only (the small formats).
GROUPED_COUNT = Kind("grouped_count", parse_grouped_count, "BIGINT")
PERCENT = Kind("percent", parse_percent, "DOUBLE")
FLAG = Kind("flag", parse_flag, "BOOLEAN")
FOLLOWED = Kind("followed", parse_followed, "BOOLEAN")
PRESENT = Kind("present", parse_present, "BOOLEAN")
