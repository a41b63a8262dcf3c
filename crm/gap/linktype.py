"""Guess the link type of a referring page, and spot broken-link opportunities.

The guess reads, in order of trust: the tool's own page-type/category
columns (Ahrefs "Page type", "Page category"), the URL, then the title, and
keeps the words that decided it as evidence, so the UI can show why and a
specialist can correct it. The words of each type are in
crm.gap.page_rules (evaluated by DuckDB); the most specific types are tried
first (a directory listing can look like a list post; a forum thread like an
article).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from crm.gap.exports import Evidence
from crm.gap.page_rules import PageVerdict, judge_pages, verdict_key


class LinkType(StrEnum):
    RESOURCE = "resource"
    ROUNDUP = "roundup"
    EDITORIAL = "editorial"
    COMPARISON = "comparison"
    GUEST_POST = "guest_post"
    DIRECTORY = "directory"
    FORUM = "forum"
    PROFILE = "profile"
    OTHER = "other"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    LinkType.RESOURCE: "resource page",
    LinkType.ROUNDUP: "roundup/listicle",
    LinkType.EDITORIAL: "editorial mention",
    LinkType.COMPARISON: "comparison",
    LinkType.GUEST_POST: "guest post",
    LinkType.DIRECTORY: "directory",
    LinkType.FORUM: "forum/comment",
    LinkType.PROFILE: "profile",
    LinkType.OTHER: "other",
}


@dataclass(frozen=True, slots=True)
class LinkTypeGuess:
    """A link type and what gave it away (`source`: page type, URL, title, or none)."""

    link_type: LinkType
    evidence: str
    source: str
    page_url: str | None = None


def guess_from(verdict: PageVerdict, page_url: str | None = None) -> LinkTypeGuess:
    """Guess the link type of a page from what its page type, URL and title say."""
    said = verdict.tool_type
    # A tool's "Article" is too broad to beat a telling URL; its other types win.
    if said is not None and said != LinkType.EDITORIAL:
        return LinkTypeGuess(LinkType(said), f'page type "{verdict.tool_says}"', "page type",
                             page_url)  # fmt: skip
    # The URL is what the site's owner chose to call the page: trusted before the title.
    if verdict.url_type is not None:
        words = (verdict.url_words or "").strip("/")
        return LinkTypeGuess(LinkType(verdict.url_type), f'URL contains "{words}"', "url",
                             page_url)  # fmt: skip
    if verdict.title_type is not None:
        words = (verdict.title_words or "").strip()
        return LinkTypeGuess(LinkType(verdict.title_type), f'title says "{words}"', "title",
                             page_url)  # fmt: skip
    if said == LinkType.EDITORIAL:
        return LinkTypeGuess(LinkType.EDITORIAL, f'page type "{verdict.tool_says}"', "page type",
                             page_url)  # fmt: skip
    return LinkTypeGuess(LinkType.OTHER, "nothing in the URL or title tells", "none", page_url)


def detect_link_type(
    page_url: str | None,
    title: str | None = None,
    page_type: str | None = None,
    page_category: str | None = None,
) -> LinkTypeGuess:
    """Guess the link type of one referring page from its columns, URL and title."""
    page = Evidence(page_url or "", title, page_type=page_type, page_category=page_category)
    return guess_from(judge_pages([page])[verdict_key(page)], page_url)


_SPECIFICITY = {
    t: i
    for i, t in enumerate(
        (
            LinkType.RESOURCE,
            LinkType.ROUNDUP,
            LinkType.COMPARISON,
            LinkType.GUEST_POST,
            LinkType.EDITORIAL,
            LinkType.DIRECTORY,
            LinkType.FORUM,
            LinkType.PROFILE,
            LinkType.OTHER,
        )
    )
}


def domain_link_type(
    evidence: Sequence[Evidence], verdicts: Mapping[tuple[Any, ...], PageVerdict] | None = None
) -> LinkTypeGuess:
    """Guess a referring domain's link type from its evidence pages.

    The most common guess wins; ties go to the type that is easiest to pitch
    (resource pages before roundups before comparisons ...), "other" last.
    `verdicts` (crm.gap.page_rules.judge_pages) holds the pages' verdicts
    when the caller judged a batch of domains at once.
    """
    if verdicts is None:
        verdicts = judge_pages(evidence)
    guesses = [guess_from(verdicts[verdict_key(e)], e.page_url) for e in evidence]
    known = [g for g in guesses if g.link_type is not LinkType.OTHER]
    if not known:
        return guesses[0] if guesses else LinkTypeGuess(LinkType.OTHER, "no evidence pages", "none")
    counts: dict[LinkType, int] = {}
    for guess in known:
        counts[guess.link_type] = counts.get(guess.link_type, 0) + 1
    best = min(counts, key=lambda t: (-counts[t], _SPECIFICITY[t]))
    first = next(g for g in known if g.link_type is best)
    if counts[best] > 1:
        return LinkTypeGuess(
            best,
            f"{counts[best]} of {len(guesses)} pages; e.g. {first.evidence}",
            first.source,
            first.page_url,
        )
    return first


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A competitor link that is gone: pitch our page as the replacement."""

    site: str
    page_url: str
    target_url: str | None
    reason: str


_DEAD = frozenset({404, 410})


def broken_links(
    evidence: Mapping[str, Iterable[Evidence]],
    competitors: Iterable[str],
    target_status: Mapping[str, int] | None = None,
) -> list[BrokenLink]:
    """Return the competitor evidence whose target answered 404/410 or whose link was lost.

    `target_status` maps a target URL to the HTTP status a check got (when
    the caller checked the competitors' targets); the exports' own lost
    status counts without it.
    """
    statuses = target_status or {}
    found = []
    for site in competitors:
        for page in evidence.get(site, ()):
            status = statuses.get(page.target_url or "")
            if status in _DEAD:
                found.append(
                    BrokenLink(
                        site, page.page_url, page.target_url, f"the target answered {status}"
                    )
                )
            elif page.lost:
                found.append(
                    BrokenLink(
                        site, page.page_url, page.target_url, f"the link is lost ({page.lost})"
                    )
                )
    return found
