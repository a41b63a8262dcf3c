"""Score a prospect: authority, relevance and feasibility, each 0-1 and explained.

total = weighted sum with the campaign's weights, normalised by their sum.
Defaults: authority 0.35, relevance 0.40, feasibility 0.25 (relevance first:
an on-topic DR 40 page earns placements an off-topic DR 80 one never will).

- authority: DR/authority / 100; unknown counts as 0.2 (the tools see most
  sites worth pitching, so unknown usually means small).
- relevance: the campaign's topic keywords found in the evidence titles,
  URLs and page categories; three distinct keywords (or all, if fewer) make
  1.0. A manual 1-5 rating replaces it ((rating - 1) / 4).
- feasibility: how open that kind of page is to adding a link (resource
  pages and roundups most, profiles and forums least), plus overlap (a site
  that linked to several competitors links out readily), plus whether we
  have someone to write to.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from crm.gap.linktype import LinkType

UNKNOWN_AUTHORITY = 0.2
KEYWORDS_FOR_FULL_RELEVANCE = 3

# How readily each kind of page adds a link when asked.
LINK_TYPE_EASE: dict[LinkType, float] = {
    LinkType.RESOURCE: 0.8,
    LinkType.ROUNDUP: 0.75,
    LinkType.GUEST_POST: 0.65,
    LinkType.COMPARISON: 0.6,
    LinkType.DIRECTORY: 0.5,
    LinkType.EDITORIAL: 0.4,
    LinkType.OTHER: 0.35,
    LinkType.FORUM: 0.25,
    LinkType.PROFILE: 0.2,
}
OVERLAP_WEIGHT = 0.25
CONTACT_BONUS = 0.1
NO_CONTACT_PENALTY = 0.15


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """How much each part counts in the total (any non-negative numbers)."""

    authority: float = 0.35
    relevance: float = 0.40
    feasibility: float = 0.25

    def __post_init__(self) -> None:
        if min(self.authority, self.relevance, self.feasibility) < 0:
            raise ValueError("score weights cannot be negative")
        if self.authority + self.relevance + self.feasibility <= 0:
            raise ValueError("at least one score weight must be above zero")


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a score: a value from 0 to 1 and why."""

    value: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Score:
    """A prospect's score and its three explained parts."""

    authority: Part
    relevance: Part
    feasibility: Part
    total: float

    @property
    def explanation(self) -> str:
        return "; ".join(
            (
                f"authority {self.authority.value:.2f}: {self.authority.explanation}",
                f"relevance {self.relevance.value:.2f}: {self.relevance.explanation}",
                f"feasibility {self.feasibility.value:.2f}: {self.feasibility.explanation}",
            )
        )


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


# Cached (pure): an import asks the same few DR values for every prospect.
@lru_cache(maxsize=4096)
def authority_part(authority: float | None) -> Part:
    """Score the authority (DR, DA, AS, TF on a 0-100 scale)."""
    if authority is None:
        return Part(UNKNOWN_AUTHORITY, "authority unknown")
    return Part(_clamp(authority / 100.0), f"authority {authority:g} of 100")


def _fold(text: str) -> str:
    # Case- and accent-insensitive, with URL punctuation as spaces.
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " " + re.sub(r"[\W_]+", " ", text) + " "


@lru_cache(maxsize=4096)
def _folded_keyword(keyword: str) -> str:
    # Cached: the same few campaign keywords are matched against every prospect.
    return _fold(keyword)


@lru_cache(maxsize=256)
def _wanted(keywords: tuple[str, ...]) -> tuple[str, ...]:
    # Cached: a campaign's keywords, asked once per prospect.
    return tuple(dict.fromkeys(k.strip() for k in keywords if k.strip()))


def relevance_part(
    keywords: Sequence[str], texts: Iterable[str], manual: int | None = None
) -> Part:
    """Score topic relevance from keyword matches, or a manual 1-5 rating."""
    if manual is not None:
        if not 1 <= manual <= 5:
            raise ValueError("a manual relevance rating is from 1 to 5")
        return Part((manual - 1) / 4, f"rated {manual} of 5 by hand")
    wanted = _wanted(tuple(keywords))
    if not wanted:
        return Part(0.5, "the campaign has no topic keywords")
    haystack = " ".join(_fold(t) for t in texts if t)
    if not haystack.strip():
        return Part(0.0, "no titles or URLs to match the topic against")
    found = [k for k in wanted if _folded_keyword(k) in haystack]
    if not found:
        return Part(0.0, f"none of the topic keywords ({', '.join(wanted[:5])}) appear")
    needed = min(KEYWORDS_FOR_FULL_RELEVANCE, len(wanted))
    return Part(_clamp(len(found) / needed), f"mentions {', '.join(found[:5])}")


# Cached (pure): a campaign has few link type, overlap and contact combinations.
@lru_cache(maxsize=1024)
def feasibility_part(
    link_type: LinkType, overlap: int, competitor_count: int, contactable: bool | None = None
) -> Part:
    """Score how likely a pitch lands: the page type, the overlap, a contact to write to."""
    ease = LINK_TYPE_EASE[link_type]
    share = overlap / competitor_count if competitor_count else 0.0
    value = ease * (1 - OVERLAP_WEIGHT) + share * OVERLAP_WEIGHT
    kind = link_type.label if link_type.label.endswith(" page") else f"{link_type.label} page"
    why = [kind, f"links to {overlap} of {competitor_count} competitors"]
    if contactable is True:
        value += CONTACT_BONUS
        why.append("a contact is known")
    elif contactable is False:
        value -= NO_CONTACT_PENALTY
        why.append("no contact yet")
    return Part(_clamp(value), ", ".join(why))


def total_of(
    authority: Part, relevance: Part, feasibility: Part, weights: ScoreWeights = ScoreWeights()
) -> float:
    """Combine three parts with the weights (normalised by their sum), rounded to 3 places."""
    weight = weights.authority + weights.relevance + weights.feasibility
    total = (
        authority.value * weights.authority
        + relevance.value * weights.relevance
        + feasibility.value * weights.feasibility
    ) / weight
    return round(_clamp(total), 3)


def score(
    *,
    authority: float | None,
    keywords: Sequence[str],
    texts: Iterable[str],
    link_type: LinkType,
    overlap: int,
    competitor_count: int,
    contactable: bool | None = None,
    manual_relevance: int | None = None,
    weights: ScoreWeights = ScoreWeights(),
) -> Score:
    """Score one prospect from plain values."""
    parts = (
        authority_part(authority),
        relevance_part(keywords, texts, manual_relevance),
        feasibility_part(link_type, overlap, competitor_count, contactable),
    )
    return Score(*parts, total=total_of(*parts, weights=weights))
