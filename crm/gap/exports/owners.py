"""Whose export is this: the owner site of a single-site export.

In order: the user's explicit `DOMAIN=PATH`; the export's Target URL column
(the registrable domain most of the first data rows link to); the file name
patterns the tools use, e.g. `<site>-refdomains-subdomains_<date>.csv`
(Ahrefs), `<site>-backlinks_refdomains.csv` (Semrush), or a GSC ZIP named
after its property (`https___www.site.com_-Links-<date>.zip`,
`sc-domain_site.com-Links-<date>.zip`).

`campaign_site_in_file_name` is the last resort of an import, which knows the
campaign: a file renamed by hand (`2026-Q4 rival.com refdomains.csv`) names
one of its sites somewhere, not always first.
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
# Extensions taken off a file name before looking for a site in it ("site.com.csv").
_EXTENSIONS = (".csv", ".tsv", ".txt", ".zip", ".gz")
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


def campaign_site_in_file_name(name: str, sites: Iterable[str]) -> str | None:
    """Return the one site of `sites` a file name mentions as a whole domain, or None.

    A site inside a longer name of the file does not count (c.com in
    rival-c.com.au), nor one inside another site it mentions (c.com in
    rival-c.com); two sites mentioned make the name say nothing.
    """
    stem = PurePath(name.replace("\\", "/")).name.lower()
    while stem.endswith(_EXTENSIONS):
        stem = stem.rsplit(".", 1)[0]
    stem = stem.replace("_", " ")  # "_" separates words in file names, as "-" and " " do
    found: dict[str, list[tuple[int, int]]] = {}
    for site in dict.fromkeys(sites):
        # Not inside a longer name: no letter, digit or dot before (but "www."), none after.
        pattern = rf"(?:(?<=www\.)|(?<![\w.])){re.escape(site.lower())}(?!\w|\.\w)"
        if spans := [m.span() for m in re.finditer(pattern, stem)]:
            found[site] = spans

    def inside_another(site: str, span: tuple[int, int]) -> bool:
        theirs = (other for other_site, spans in found.items() if other_site != site
                  for other in spans)  # fmt: skip
        return any(a <= span[0] and span[1] <= b for a, b in theirs)

    named = [site for site, spans in found.items()
             if not all(inside_another(site, span) for span in spans)]  # fmt: skip
    return named[0] if len(named) == 1 else None


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
