"""Map a prospect to one target page of ours and a default outreach angle.

Target rules by link type (DESIGN §1.4, issue 3): resource page -> in-depth
guide; roundup -> list post or tool; editorial -> original data; comparison
-> comparison page; guest post -> guide or data to cite. Among the pages of
the preferred categories the one sharing most keywords with the prospect's
evidence wins (then the campaign's order). Never the home page, unless the
caller allows it and nothing else fits.

Angles are the slugs of the built-in angles (migration 0016_builtin_sequences):
broken link when a competitor's link there is gone, roundup inclusion for roundups, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from crm.gap.linktype import LinkType

GUIDE = "guide"
LIST = "list"
TOOL = "tool"
DATA = "data"
COMPARISON = "comparison"
OTHER = "other"

PREFERRED_CATEGORIES: dict[LinkType, tuple[str, ...]] = {
    LinkType.RESOURCE: (GUIDE, TOOL, DATA),
    LinkType.ROUNDUP: (LIST, TOOL),
    LinkType.EDITORIAL: (DATA, GUIDE),
    LinkType.COMPARISON: (COMPARISON, TOOL),
    LinkType.GUEST_POST: (GUIDE, DATA),
    LinkType.DIRECTORY: (TOOL, OTHER),
    LinkType.FORUM: (GUIDE, TOOL),
    LinkType.PROFILE: (OTHER, TOOL),
    LinkType.OTHER: (GUIDE, DATA, LIST, TOOL, COMPARISON),
}

RESOURCE_REPLACEMENT = "resource-replacement"
COVERAGE_GAP = "coverage-gap"
UNLINKED_MENTION = "unlinked-mention"
BROKEN_LINK = "broken-link"
SKYSCRAPER = "skyscraper"
GUEST_POST = "guest-post"
ROUNDUP_INCLUSION = "roundup-inclusion"

_ANGLE_BY_TYPE: dict[LinkType, tuple[str, str]] = {
    LinkType.RESOURCE: (RESOURCE_REPLACEMENT, "resource pages add useful links"),
    LinkType.ROUNDUP: (ROUNDUP_INCLUSION, "roundups take new entries"),
    LinkType.COMPARISON: (COVERAGE_GAP, "a comparison that leaves us out"),
    LinkType.EDITORIAL: (COVERAGE_GAP, "an article on the topic that cites competitors"),
    LinkType.GUEST_POST: (GUEST_POST, "they publish guest posts"),
    LinkType.DIRECTORY: (COVERAGE_GAP, "a listing that lacks us"),
    LinkType.FORUM: (COVERAGE_GAP, "a discussion where our page answers the question"),
    LinkType.PROFILE: (COVERAGE_GAP, "a profile page that lists links"),
    LinkType.OTHER: (COVERAGE_GAP, "they link to competitors on this topic"),
}


@dataclass(frozen=True, slots=True)
class TargetPage:
    """A page of ours to pitch, as the campaign lists it."""

    url: str
    title: str = ""
    category: str = OTHER
    keywords: tuple[str, ...] = ()

    @property
    def is_home(self) -> bool:
        return _is_home(self.url)


@lru_cache(maxsize=1024)
def _is_home(url: str) -> bool:
    # Cached: asked for every target page of every prospect.
    return urlsplit(url).path.strip("/") == ""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested target URL or angle, and why."""

    value: str
    reason: str


def _terms(text: str) -> set[str]:
    return {w for w in re.split(r"[\W_]+", text.casefold()) if len(w) > 2}


@lru_cache(maxsize=1024)
def _page_terms(page: TargetPage) -> frozenset[str]:
    # Cached: an import asks it for every target page of every prospect.
    terms = _terms(page.title) | _terms(urlsplit(page.url).path)
    for keyword in page.keywords:
        terms |= _terms(keyword)
    return frozenset(terms)


def suggest_target(
    link_type: LinkType,
    evidence_texts: Iterable[str],
    pages: Sequence[TargetPage],
    *,
    allow_home: bool = False,
) -> Suggestion | None:
    """Suggest the target page for a prospect, or None when the campaign has none that fits."""
    candidates = [p for p in pages if not p.is_home]
    if not candidates and not allow_home:
        return None
    topic = set()
    for text in evidence_texts:
        if text:
            topic |= _terms(text)
    preferred = PREFERRED_CATEGORIES[link_type]

    def fit(page: TargetPage) -> tuple[int, int]:
        rank = preferred.index(page.category) if page.category in preferred else len(preferred)
        return (rank, -len(_page_terms(page) & topic))

    if candidates:
        best = min(candidates, key=fit)  # min() keeps the campaign's order among ties
        rank, fewer = fit(best)
        shared = -fewer
        if rank < len(preferred):
            why = f"{link_type.label} -> {best.category} page"
        else:
            why = f"no {'/'.join(preferred)} page; closest topic"
        if shared:
            why += f", {shared} topic word{'s' if shared > 1 else ''} in common"
        return Suggestion(best.url, why)
    if allow_home:
        home = next((p for p in pages if p.is_home), None)
        if home is not None:
            return Suggestion(home.url, "the home page (no other target pages)")
    return None


def suggest_angle(
    link_type: LinkType,
    *,
    broken: bool = False,
    mentions_us: bool = False,
    outdated_target: bool = False,
) -> Suggestion:
    """Suggest the default angle for a prospect from its link type and evidence.

    `broken`: a competitor's link there is lost or its target is dead;
    `mentions_us`: an evidence page names us without linking; `outdated_target`:
    the competitor page they link to is one we have outdone (skyscraper).
    """
    if broken:
        return Suggestion(BROKEN_LINK, "a competitor's link on their page is broken or gone")
    if mentions_us:
        return Suggestion(UNLINKED_MENTION, "they mention us without a link")
    if outdated_target:
        return Suggestion(SKYSCRAPER, "they link to a competitor page ours outdoes")
    angle, why = _ANGLE_BY_TYPE[link_type]
    return Suggestion(angle, why)
