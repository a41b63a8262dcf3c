"""Whose export is this: the owner site of a single-site export.

In order: the user's explicit `DOMAIN=PATH`; the export's Target URL column
(the registrable domain most of the first data rows link to); the file name
patterns the tools use, e.g. `<site>-refdomains-subdomains_<date>.csv`
(Ahrefs), `<site>-backlinks_refdomains.csv` (Semrush), or a GSC ZIP named
after its property (`https___www.site.com_-Links-<date>.zip`,
`sc-domain_site.com-Links-<date>.zip`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import PurePath

from crm.core.domains import DomainError, has_known_suffix, registrable_domain

# A leading domain, then a separator and one of the words the tools put next.
_FILE_SITE = re.compile(
    r"^(?P<site>(?:[\w-]+\.)+(?:[a-z]{2,}|xn--[a-z0-9-]+))"
    r"(?=[-_ ](?:[a-z0-9_ -]*?)(?:backlinks|refdomains|ref-domains|referring|linking|links|"
    r"domains|anchors|pages|top)\b)",
    re.IGNORECASE,
)
_PREFIXES = ("https___", "http___", "sc-domain_", "sc-domain:", "www.")
# Reserved names used in documentation and tests, accepted although unlisted.
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")


def site_from_file_name(name: str) -> str | None:
    """Return the site a tool's file name says the export is for, or None."""
    stem = PurePath(name.replace("\\", "/")).name
    for prefix in _PREFIXES:
        if stem.lower().startswith(prefix):
            stem = stem[len(prefix) :]
    match = _FILE_SITE.match(stem)
    if not match:
        return None
    candidate = match.group("site")
    try:
        domain = registrable_domain(candidate)
    except DomainError:
        return None
    if not has_known_suffix(domain) and domain.rsplit(".", 1)[-1] not in _RESERVED_TLDS:
        return None
    return domain


def majority_domain(values: Iterable[str]) -> str | None:
    """Return the registrable domain most of these URLs point to, or None."""
    counts: Counter[str] = Counter()
    for value in values:
        if not value.strip():
            continue
        try:
            counts[registrable_domain(value)] += 1
        except DomainError:
            continue
    if not counts:
        return None
    return counts.most_common(1)[0][0]
