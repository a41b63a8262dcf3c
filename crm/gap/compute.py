"""Compute the gap per referring domain (DESIGN §4).

Gap = links to at least N competitors (N per campaign, default 1) and not to
us. Categories are filters that may overlap: best (every competitor, not
us), strong (a competitor, not us), weak (us, but fewer backlinks than to
some competitor), shared (us and every competitor), unique (exactly one of
the sites). Tier, for gap domains only: 1 = every competitor, 2 = two or
more, 3 = one. "Not linking to us" only holds as far as our own export
goes: `our_export_present` says whether there was one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from crm.gap.facts import DomainFacts

DEFAULT_MIN_OVERLAP = 1


class Category(StrEnum):
    BEST = "best"
    STRONG = "strong"
    WEAK = "weak"
    SHARED = "shared"
    UNIQUE = "unique"


AUTHORITY_BANDS: tuple[tuple[float, str], ...] = ((30.0, "0-29"), (50.0, "30-49"), (70.0, "50-69"))
TOP_BAND = "70+"
BAND_LABELS = ("0-29", "30-49", "50-69", TOP_BAND)


def authority_band(authority: float | None) -> str | None:
    """Return the band of a DR/authority: 0-29, 30-49, 50-69 or 70+ (None when unknown)."""
    if authority is None:
        return None
    for upper, label in AUTHORITY_BANDS:
        if authority < upper:
            return label
    return TOP_BAND


@dataclass(frozen=True, slots=True)
class GapSettings:
    """The campaign's side of the gap: our site, the competitors, N."""

    site: str
    competitors: tuple[str, ...]
    min_overlap: int = DEFAULT_MIN_OVERLAP

    def __post_init__(self) -> None:
        if self.min_overlap < 1:
            raise ValueError("the minimum overlap is at least 1")
        if self.site in self.competitors:
            raise ValueError("our site cannot also be a competitor")


@dataclass(frozen=True, slots=True)
class GapRow:
    """The gap facts of one referring domain in one campaign."""

    domain: str
    links_to_us: bool
    competitors: tuple[str, ...]
    overlap: int
    backlinks: dict[str, int]
    categories: tuple[str, ...]
    tier: int | None
    is_gap: bool
    authority: float | None
    authority_band: str | None
    traffic: int | None
    dofollow: bool | None
    spam: bool | None
    our_export_present: bool


def tier_for(overlap: int, competitor_count: int) -> int | None:
    """Return the tier of a domain linking to `overlap` competitors (None for 0)."""
    if overlap <= 0:
        return None
    if overlap >= competitor_count:
        return 1
    return 2 if overlap >= 2 else 3


@lru_cache(maxsize=4096)
def _gap_of(
    settings: GapSettings, present: tuple[bool, ...], links_to_us: bool, outnumbered: bool
) -> tuple[tuple[str, ...], tuple[str, ...], int | None, bool]:
    """Return (competitors, categories, tier, is_gap) of a domain's link pattern.

    Cached: a campaign has few patterns (which competitors, whether us, whether
    a competitor has more backlinks than we do) over 100,000s of domains.
    """
    competitors = tuple(c for c, there in zip(settings.competitors, present, strict=True) if there)
    overlap = len(competitors)
    total = len(settings.competitors)
    every = overlap == total and total > 0
    categories = []
    if not links_to_us:
        if every:
            categories.append(Category.BEST.value)
        if overlap:
            categories.append(Category.STRONG.value)
    else:
        if outnumbered:
            categories.append(Category.WEAK.value)
        if every:
            categories.append(Category.SHARED.value)
    if overlap + links_to_us == 1:
        categories.append(Category.UNIQUE.value)
    is_gap = not links_to_us and overlap >= settings.min_overlap
    return competitors, tuple(categories), tier_for(overlap, total) if is_gap else None, is_gap


def classify(
    facts: DomainFacts, settings: GapSettings, *, our_export_present: bool = True
) -> GapRow:
    """Return the gap facts of one domain."""
    counts = facts.backlinks
    sites = (settings.site, *settings.competitors)
    ours = counts.get(settings.site, 0)
    theirs = [counts.get(c, 0) for c in settings.competitors]
    competitors, categories, tier, is_gap = _gap_of(
        settings, tuple(n > 0 for n in theirs), ours > 0, ours > 0 and max(theirs, default=0) > ours
    )
    return GapRow(
        domain=facts.domain,
        links_to_us=ours > 0,
        competitors=competitors,
        overlap=len(competitors),
        backlinks={s: n for s in sites if (n := counts.get(s, 0)) > 0},
        categories=categories,
        tier=tier,
        is_gap=is_gap,
        authority=facts.authority,
        authority_band=authority_band(facts.authority),
        traffic=facts.traffic,
        dofollow=facts.dofollow,
        spam=facts.spam,
        our_export_present=our_export_present,
    )


def compute_gap(
    facts: Iterable[DomainFacts], settings: GapSettings, *, our_export_present: bool = True
) -> Iterator[GapRow]:
    """Classify every referring domain that links to any campaign site."""
    sites = {settings.site, *settings.competitors}
    for fact in facts:
        if sites.intersection(fact.backlinks):
            yield classify(fact, settings, our_export_present=our_export_present)
