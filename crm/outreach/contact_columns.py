"""Which column of a contacts CSV holds which field: header synonyms and the user's mapping.

Pure: takes the file's header (as read) and returns our field -> the file's column index.
A mapping names the file's columns by their header text, compared after trimming and
case-folding, so `--map email="E-mail Address"` and the web mapper's choices agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from crm.core.errors import UserError

# Our fields, in the order the mapper shows them, with their labels.
FIELDS: dict[str, str] = {
    "email": "Email (required)",
    "domain": "Domain or site URL (default: the address's domain)",
    "first_name": "First name",
    "last_name": "Last name",
    "role": "Role",
    "timezone": "Time zone",
}
REQUIRED = ("email",)

# Header spellings seen in exports (Hunter, Apollo, LinkedIn, spreadsheets), compared
# by header_key: lower case, letters and digits only.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "workemail", "contactemail", "emailaddr"),
    "domain": (
        "domain",
        "domainname",
        "website",
        "websiteurl",
        "site",
        "siteurl",
        "url",
        "prospect",
        "companydomain",
        "companywebsite",
        "web",
    ),
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "role": ("role", "title", "jobtitle", "position", "jobrole"),
    "timezone": ("timezone", "tz", "timezoneiana"),
}
_KEY_OF = {syn: f for f, syns in SYNONYMS.items() for syn in syns}


def header_key(text: str) -> str:
    """Reduce a header to lower-case letters and digits ("E-mail Address" -> "emailaddress")."""
    return re.sub(r"[\W_]+", "", text.casefold())


def guess_mapping(header: Sequence[str]) -> dict[str, int]:
    """Return our field -> column index for the headers we recognise (first one wins)."""
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        f = _KEY_OF.get(header_key(text))
        if f is not None and f not in found:
            found[f] = index
    return found


def resolve_mapping(
    header: Sequence[str], mapping: Mapping[str, str] | None, name: str
) -> dict[str, int]:
    """Return field -> column index: recognised headers, then the user's choices over them.

    A choice of "" leaves the field unmapped. UserError names the file, line 1 and
    the field (as `field`) when a field is unknown, a column is not in the header or
    email ends up with no column.
    """
    columns = guess_mapping(header)
    keys = [text.strip().casefold() for text in header]
    found = ", ".join(h.strip() for h in header) or "nothing"
    for f, column in (mapping or {}).items():
        if f not in FIELDS:
            raise UserError(f"unknown field {f} (fields: {', '.join(FIELDS)})", field="mapping")
        if not column.strip():
            columns.pop(f, None)
            continue
        try:
            columns[f] = keys.index(column.strip().casefold())
        except ValueError:
            raise UserError(
                f"{name}, line 1: no column {column.strip()!r} for {f} (found: {found})", field=f
            ) from None
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise UserError(
            f"{name}, line 1: missing column {', '.join(missing)} (found: {found})",
            field=missing[0],
        )
    return columns
