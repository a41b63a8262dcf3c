"""A CSV of any tool whose columns the user maps to ours.

The mapping is a dict of our field -> their column header (compared after
trimming and case-folding); it needs at least `url` or `domain`. Numbers
may carry thousands separators here, since such files are often hand-made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crm.gap.exports.cells import AUTHORITY, BOOL, FLAG, GROUPED_COUNT, TEXT, URL, Kind
from crm.gap.exports.formats import ExportFormat, LinkRule, Match, header_key
from crm.gap.exports.model import ExportInfo

# Our fields a user may map, and what each means.
FIELDS: dict[str, str] = {
    "url": "referring page URL",
    "domain": "referring domain",
    "backlinks": "number of backlinks from the domain",
    "authority": "authority score 0-100 (DR, DA, AS, TF)",
    "traffic": "the referring domain's traffic",
    "dofollow": "true when the link is followed",
    "nofollow": "true when the link is nofollow",
    "spam": "true when the tool flags the domain as spam",
    "language": "language of the referring page",
    "title": "title of the referring page",
    "target_url": "the URL linked to (ours or a competitor's)",
    "anchor": "anchor text",
    "first_seen": "date first seen",
    "last_seen": "date last seen",
    "http_code": "HTTP status of the referring page",
    "lost": "set when the link is lost",
}


# Our field names in a mapping -> the column names the readers share.
_INTERNAL = {"url": "page_url", "target_url": "target"}
# The kind of each field (page_url and domain: see GenericCsv.kinds).
KINDS: dict[str, Kind] = {
    "page_url": TEXT,
    "domain": TEXT,
    "backlinks": GROUPED_COUNT,
    "authority": AUTHORITY,
    "traffic": GROUPED_COUNT,
    "dofollow": BOOL,
    "nofollow": BOOL,
    "spam": BOOL,
    "language": TEXT,
    "title": TEXT,
    "target": TEXT,
    "anchor": TEXT,
    "first_seen": TEXT,
    "last_seen": TEXT,
    "http_code": TEXT,
    "lost": FLAG,
}


class MappingError(ValueError):
    """A column mapping that does not fit the file."""


class GenericCsv(ExportFormat):
    id = "generic"
    label = "Generic CSV"
    ragged = True

    def match_mapping(self, header: Sequence[str], mapping: Mapping[str, str]) -> Match:
        """Resolve a user's mapping against a header (MappingError when it does not fit)."""
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise MappingError(
                f"unknown field(s) in the column mapping: {', '.join(unknown)} "
                f"(known: {', '.join(FIELDS)})"
            )
        if "url" not in mapping and "domain" not in mapping:
            raise MappingError("the column mapping needs a url or a domain column")
        keys = [header_key(h) for h in header]
        columns: dict[str, int] = {}
        for ours, theirs in mapping.items():
            key = header_key(theirs)
            if key not in keys:
                found = ", ".join(f'"{h}"' for h in header[:20])
                raise MappingError(
                    f'column "{theirs}" (mapped to {ours}) is not in the file; found: {found}'
                )
            columns[_INTERNAL.get(ours, ours)] = keys.index(key)
        return Match(self, columns, variant="mapped columns", score=len(columns))

    def match(self, header: Sequence[str], keys: Sequence[str]) -> Match | None:
        return None  # only ever chosen through a mapping

    def kinds(self, info: ExportInfo) -> dict[str, Kind]:
        kinds = dict(KINDS)
        # The referring domain comes from the domain column if mapped, else from the URL.
        kinds["domain" if "domain" in info.columns else "page_url"] = URL
        return kinds

    def link_rule(self, info: ExportInfo) -> LinkRule:
        return LinkRule(
            domain="domain" if "domain" in info.columns else "page_url",
            backlinks="coalesce(backlinks, 1)",
            authority="authority",
            traffic="traffic",
            rel="CASE WHEN nofollow THEN 1 WHEN NOT nofollow THEN 0 "
            "WHEN dofollow THEN 0 WHEN NOT dofollow THEN 1 ELSE -1 END",
            spam="spam",
            lost="lost",
            language="language",
            score="authority",
            target="target",
            page="nullif(page_url, '')",
        )


GENERIC = GenericCsv()
