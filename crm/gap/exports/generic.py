"""A CSV of any tool whose columns the user maps to ours.

The mapping is a dict of our field -> their column header (compared after
trimming and case-folding); it needs at least `url` or `domain`. Numbers
may carry thousands separators here, since such files are often hand-made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from crm.gap.exports.base import (
    Cells,
    DomainFolder,
    ExportFormat,
    Match,
    RawLink,
    domain_cell,
    evidence_rank,
    header_key,
    rel_bits,
)
from crm.gap.exports.model import REL_UNKNOWN, ExportInfo
from crm.gap.exports.values import (
    parse_authority,
    parse_bool,
    parse_flag,
    parse_grouped_count,
)

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

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        url = cells.raw("page_url")
        domain = cells.get("domain" if cells.has("domain") else "page_url", domain_cell(folder))
        backlinks = cells.get("backlinks", parse_grouped_count)
        authority = cells.get("authority", parse_authority)
        dofollow = cells.get("dofollow", parse_bool)
        nofollow = cells.get("nofollow", parse_bool)
        if nofollow is None and dofollow is not None:
            nofollow = not dofollow
        rel = rel_bits(nofollow, None, None) if nofollow is not None else REL_UNKNOWN
        lost = bool(cells.get("lost", parse_flag))
        rank = evidence_rank(authority, rel, lost)
        return (
            (
                domain,
                info.owners[0],
                backlinks if backlinks is not None else 1,
                authority,
                cells.get("traffic", parse_grouped_count),
                rel,
                cells.get("spam", parse_bool),
                lost,
                cells.raw("language"),
                rank,
                cells.raw("target"),
                cells.parts if url else None,
            ),
        )


GENERIC = GenericCsv()
