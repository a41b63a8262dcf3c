"""Qualify prospects: campaign filters and exclusion rules, each with its reason.

`first_exclusion` returns the first filter or rule that hides a prospect, as
a stable code (stored, filterable) and one human line (shown next to it, so a
hidden prospect always says why and can be restored). Rules run in a fixed
order: the user's blocklist, spam, TLD, language, the page patterns
(directory, press release, blogroll), sponsored/UGC-only links; then the
campaign filters (overlap, authority, traffic, dofollow).

Manual "unwinnable" reasons are constants here; marking and restoring are
the service's business.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm.gap.exports import Evidence
from crm.gap.facts import DomainFacts
from crm.gap.page_rules import PageVerdict, judge_pages, verdict_key

# Stable codes of what can hide a prospect.
BLOCKLIST = "blocklist"
SPAM = "spam"
TLD = "tld"
LANGUAGE = "language"
DIRECTORY = "directory"
PRESS_RELEASE = "press_release"
BLOGROLL = "blogroll"
PAID_OR_UGC = "paid_or_ugc"
MIN_OVERLAP = "min_overlap"
MIN_AUTHORITY = "min_authority"
MIN_TRAFFIC = "min_traffic"
DOFOLLOW_ONLY = "dofollow_only"
UNWINNABLE = "unwinnable"

RULE_LABELS = {
    BLOCKLIST: "on the blocklist",
    SPAM: "flagged as spam",
    TLD: "excluded TLD",
    LANGUAGE: "foreign language",
    DIRECTORY: "directory",
    PRESS_RELEASE: "press-release site",
    BLOGROLL: "blogroll",
    PAID_OR_UGC: "sponsored/UGC links only",
    MIN_OVERLAP: "below the minimum overlap",
    MIN_AUTHORITY: "below the minimum authority",
    MIN_TRAFFIC: "below the minimum traffic",
    DOFOLLOW_ONLY: "no dofollow link",
    UNWINNABLE: "marked unwinnable",
}

# Reasons a specialist gives when marking a prospect unwinnable by hand.
UNWINNABLE_REASONS = {
    "news_coverage": "news coverage (earned by a news event, not by a pitch)",
    "partner_customer": "a partner or customer of the competitor",
    "paid_placement": "a paid placement",
    "personal_network": "the competitor's personal network",
}

# Press-release distribution networks: any link from them is a paid release.
PRESS_RELEASE_DOMAINS = frozenset(
    {
        "prweb.com",
        "prnewswire.com",
        "businesswire.com",
        "globenewswire.com",
        "einpresswire.com",
        "openpr.com",
        "pr.com",
        "24-7pressrelease.com",
        "newswire.com",
        "accesswire.com",
        "prlog.org",
        "pressat.co.uk",
        "issuewire.com",
        "prfree.org",
        "newsfilecorp.com",
    }
)


@dataclass(frozen=True, slots=True)
class CampaignFilters:
    """The campaign's thresholds; None / False means "no filter"."""

    min_overlap: int = 1
    min_authority: float | None = None
    min_traffic: int | None = None
    dofollow_only: bool = False


@dataclass(frozen=True, slots=True)
class ExclusionRules:
    """What the team never wants to pursue.

    `excluded_tlds` are public suffixes without the dot (`ru`, `co.in`);
    `languages` is the list of acceptable languages (empty: any).
    """

    spam: bool = True
    excluded_tlds: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    directories: bool = True
    press_releases: bool = True
    blogrolls: bool = True
    paid_or_ugc_only: bool = True
    blocklist: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        *,
        excluded_tlds: Iterable[str] = (),
        languages: Iterable[str] = (),
        blocklist: Iterable[str] = (),
        **flags: bool,
    ) -> ExclusionRules:
        """Normalise user-typed lists (case, leading dots, spaces)."""
        return cls(
            excluded_tlds=frozenset(
                t.strip().lower().lstrip(".") for t in excluded_tlds if t.strip()
            ),
            languages=frozenset(_language(x) for x in languages if x.strip()),
            blocklist=frozenset(d.strip().lower() for d in blocklist if d.strip()),
            **flags,
        )


@dataclass(frozen=True, slots=True)
class Exclusion:
    """What hides a prospect: a stable code and the line the UI shows."""

    code: str
    reason: str


def _language(code: str) -> str:
    # "en-GB" / "en_US" / "EN" all mean English for this purpose.
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]


def _pages(facts: DomainFacts, sites: Collection[str] | None) -> list[Evidence]:
    return [
        page
        for site, pages in facts.evidence.items()
        if sites is None or site in sites
        for page in pages
    ]


def _all_pages_are(
    pages: list[Evidence], verdicts: Mapping[tuple[Any, ...], PageVerdict], kind: str
) -> Evidence | None:
    """Return an example page when every page is of this kind (its URL or title matches)."""
    if not pages:
        return None
    for page in pages:
        if not getattr(verdicts[verdict_key(page)], kind):
            return None
    return pages[0]


def rule_exclusion(
    facts: DomainFacts,
    rules: ExclusionRules,
    *,
    competitors: Collection[str] | None = None,
    verdicts: Mapping[tuple[Any, ...], PageVerdict] | None = None,
) -> Exclusion | None:
    """Return the first exclusion rule that hides this domain, or None.

    Page patterns (crm.gap.page_rules) look at the pages linking to the
    competitors (all pages when `competitors` is None) and hide the domain
    only when every one of them matches: one directory page on an otherwise
    editorial site is fine. `verdicts` holds the pages' verdicts when the
    caller judged a batch of domains at once.
    """
    domain = facts.domain
    blocked = next((b for b in rules.blocklist if domain == b or domain.endswith("." + b)), None)
    if blocked is not None:
        return Exclusion(BLOCKLIST, f"{blocked} is on the campaign's blocklist")
    if rules.spam and facts.spam:
        return Exclusion(SPAM, "the SEO tool flags this domain as spam")
    for tld in rules.excluded_tlds:
        if domain.endswith("." + tld):
            return Exclusion(TLD, f".{tld} domains are excluded")
    if rules.languages and facts.language and _language(facts.language) not in rules.languages:
        wanted = ", ".join(sorted(rules.languages))
        return Exclusion(LANGUAGE, f"language {facts.language} is not one of {wanted}")
    pages = _pages(facts, competitors)
    if pages and verdicts is None:
        verdicts = judge_pages(pages)
    judged = verdicts or {}
    if rules.directories and (page := _all_pages_are(pages, judged, "directory")):
        return Exclusion(DIRECTORY, f"its links come from directory pages ({page.page_url})")
    if rules.press_releases:
        if domain in PRESS_RELEASE_DOMAINS:
            return Exclusion(PRESS_RELEASE, f"{domain} distributes press releases")
        if page := _all_pages_are(pages, judged, "press_release"):
            return Exclusion(PRESS_RELEASE, f"its links come from press releases ({page.page_url})")
    if rules.blogrolls and (page := _all_pages_are(pages, judged, "blogroll")):
        return Exclusion(BLOGROLL, f"its links come from a blogroll ({page.page_url})")
    if rules.paid_or_ugc_only and facts.paid_or_ugc_only:
        return Exclusion(PAID_OR_UGC, "every link it gives is sponsored or user-generated")
    return None


def filter_exclusion(
    facts: DomainFacts, overlap: int, filters: CampaignFilters
) -> Exclusion | None:
    """Return the first campaign filter this domain fails, or None."""
    if overlap < filters.min_overlap:
        return Exclusion(
            MIN_OVERLAP,
            f"links to {overlap} competitor(s); the campaign asks for "
            f"at least {filters.min_overlap}",
        )
    if filters.min_authority is not None:
        if facts.authority is None:
            return Exclusion(
                MIN_AUTHORITY,
                f"authority unknown; the campaign asks for at least {filters.min_authority:g}",
            )
        if facts.authority < filters.min_authority:
            return Exclusion(
                MIN_AUTHORITY, f"authority {facts.authority:g} is below {filters.min_authority:g}"
            )
    if filters.min_traffic is not None:
        if facts.traffic is None:
            return Exclusion(
                MIN_TRAFFIC,
                f"traffic unknown; the campaign asks for at least {filters.min_traffic:,}",
            )
        if facts.traffic < filters.min_traffic:
            return Exclusion(
                MIN_TRAFFIC, f"traffic {facts.traffic:,} is below {filters.min_traffic:,}"
            )
    if filters.dofollow_only and not facts.dofollow:
        if facts.dofollow is None:
            return Exclusion(DOFOLLOW_ONLY, "no export says whether its links are dofollow")
        return Exclusion(DOFOLLOW_ONLY, "all its links are nofollow")
    return None


def first_exclusion(
    facts: DomainFacts,
    overlap: int,
    filters: CampaignFilters,
    rules: ExclusionRules,
    *,
    competitors: Collection[str] | None = None,
    verdicts: Mapping[tuple[Any, ...], PageVerdict] | None = None,
) -> Exclusion | None:
    """Return the first rule, then the first filter, that hides this prospect (None: shown)."""
    return rule_exclusion(
        facts, rules, competitors=competitors, verdicts=verdicts
    ) or filter_exclusion(facts, overlap, filters)


def unwinnable(reason_code: str, note: str | None = None) -> Exclusion:
    """Return the exclusion of a manual "unwinnable" mark (ValueError for an unknown reason)."""
    try:
        text = UNWINNABLE_REASONS[reason_code]
    except KeyError:
        known = ", ".join(UNWINNABLE_REASONS)
        raise ValueError(f"unknown unwinnable reason {reason_code!r} (known: {known})") from None
    return Exclusion(UNWINNABLE, f"unwinnable: {text}" + (f" — {note}" if note else ""))
