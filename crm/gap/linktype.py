"""Guess the link type of a referring page, and spot broken-link opportunities.

The guess reads, in order of trust: the tool's own page-type/category
columns (Ahrefs "Page type", "Page category"), the URL, then the title, and
keeps the words that decided it as evidence, so the UI can show why and a
specialist can correct it. The most specific types are tried first
(a directory listing can look like a list post; a forum thread like an article).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from crm.gap.exports import Evidence


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


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


# Most specific first; each (type, URL pattern, title pattern).
_RULES: tuple[tuple[LinkType, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        LinkType.DIRECTORY,
        _words(
            r"/director(y|ies)\b",
            r"/listings?/",
            r"/business(es)?/[^/]+/?$",
            r"/companies/",
            r"/catalog(ue)?/",
            r"/dir/",
            r"//[^/]*director(y|ies)\.",
            r"/yellow-?pages",
        ),
        _words(r"\bdirectory\b", r"\bbusiness listing", r"\blisting for\b", r"\byellow pages\b"),
    ),
    (
        LinkType.FORUM,
        _words(
            r"/forums?/",
            r"/threads?/",
            r"/topics?/",
            r"/t/\d+",
            r"/community/",
            r"/discussions?/",
            r"/questions/\d+",
            r"[?&]replytocom=",
            r"#comment",
            r"/comments?/",
            r"//(www\.)?(reddit|quora|stackexchange|stackoverflow)\.com/",
            r"showthread|viewtopic",
        ),
        _words(r"\bforums?\b", r"\bthread\b", r"\bcomments? on\b", r"\bdiscussion\b", r"\bforo\b"),
    ),
    (
        LinkType.PROFILE,
        _words(
            r"/users?/[^/]+/?$",
            r"/profiles?/",
            r"/members?/[^/]+/?$",
            r"/u/[^/]+/?$",
            r"/people/[^/]+/?$",
            r"/@[^/]+/?$",
        ),
        _words(r"\bprofile\b", r"'s profile", r"\bmember since\b"),
    ),
    (
        LinkType.GUEST_POST,
        _words(r"guest-?post", r"/guest/", r"write-for-us", r"/contributors?/", r"sponsored-post"),
        _words(r"\bguest (post|author|article)\b", r"\bcontributed by\b", r"\bwrite for us\b"),
    ),
    (
        LinkType.COMPARISON,
        _words(
            r"-vs-",
            r"/vs/",
            r"-versus-",
            r"/compare",
            r"comparison",
            r"-alternatives?\b",
            r"/alternatives?/",
        ),
        _words(r"\bvs\.?\s", r"\bversus\b", r"\bcompar(ed|ison|e)\b", r"\balternatives? to\b"),
    ),
    (
        LinkType.ROUNDUP,
        _words(
            r"/best-",
            r"-best-",
            r"/top-?\d+",
            r"roundup",
            r"round-up",
            r"/list-of-",
            r"/\d+-(best|top|tools|apps|ways|tips|resources)",
        ),
        _words(
            r"^\s*(the\s+)?\d+\s+(best|top|great|essential|useful)",
            r"\bbest\b.*\b(tools|apps|"
            r"software|sites|blogs|resources|plugins|services)\b",
            r"\btop \d+\b",
            r"\broundup\b",
            r"\bround-up\b",
            r"\blist of\b",
        ),
    ),
    (
        LinkType.RESOURCE,
        _words(
            r"/resources?(/|\.html?|$)",
            r"/links(/|\.html?|$)",
            r"useful-links",
            r"helpful-links",
            r"/further-reading",
            r"/recommended(-reading|-tools)?/",
        ),
        _words(
            r"\bresources\b",
            r"\buseful links\b",
            r"\bhelpful links\b",
            r"\bfurther reading\b",
            r"\brecommended (reading|tools|sites)\b",
        ),
    ),
    (
        LinkType.EDITORIAL,
        _words(r"/20\d\d/\d\d/", r"/news/", r"/blog/", r"/articles?/", r"/stories/", r"/posts?/"),
        _words(r"\bnews\b", r"\binterview\b", r"\breport\b", r"\bstudy\b", r"\bsurvey\b"),
    ),
)

# Whether any rule's URL (title) pattern matches: one search, where most pages match none.
_ANY_URL = _words(*(f"(?:{url.pattern})" for _, url, _ in _RULES))
_ANY_TITLE = _words(*(f"(?:{title.pattern})" for _, _, title in _RULES))

# Ahrefs "Page type" / "Page category" words and the type they mean.
_PAGE_TYPES: tuple[tuple[re.Pattern[str], LinkType], ...] = (
    (_words(r"director"), LinkType.DIRECTORY),
    (_words(r"forum", r"comment", r"message.?board", r"q&a"), LinkType.FORUM),
    (_words(r"profile", r"user page"), LinkType.PROFILE),
    (_words(r"listicle", r"roundup", r"best of"), LinkType.ROUNDUP),
    (_words(r"comparison", r"review.*vs"), LinkType.COMPARISON),
    (_words(r"resource", r"links page"), LinkType.RESOURCE),
    (_words(r"guest"), LinkType.GUEST_POST),
    (_words(r"article", r"news", r"blog post", r"press"), LinkType.EDITORIAL),
)


@lru_cache(maxsize=4096)
def _tool_type(tool_says: str) -> LinkType | None:
    # Cached: exports repeat a handful of page types over millions of rows.
    # The first type that matches, editorial only when nothing else does.
    found = None
    for pattern, link_type in _PAGE_TYPES:
        if pattern.search(tool_says):
            if link_type is not LinkType.EDITORIAL:
                return link_type
            found = link_type
    return found


def detect_link_type(
    page_url: str | None,
    title: str | None = None,
    page_type: str | None = None,
    page_category: str | None = None,
) -> LinkTypeGuess:
    """Guess the link type of one referring page from its columns, URL and title."""
    tool_says = " ".join(t for t in (page_type, page_category) if t)
    # A tool's "Article" is too broad to beat a telling URL; its other types win.
    said = _tool_type(tool_says) if tool_says else None
    if said is not None and said is not LinkType.EDITORIAL:
        return LinkTypeGuess(said, f'page type "{tool_says}"', "page type", page_url)
    # The URL is what the site's owner chose to call the page: trusted before the title.
    if page_url and _ANY_URL.search(page_url):
        for link_type, url_pattern, _ in _RULES:
            if hit := url_pattern.search(page_url):
                return LinkTypeGuess(
                    link_type, f'URL contains "{hit.group(0).strip("/")}"', "url", page_url
                )
    if title and _ANY_TITLE.search(title):
        for link_type, _, title_pattern in _RULES:
            if hit := title_pattern.search(title):
                return LinkTypeGuess(
                    link_type, f'title says "{hit.group(0).strip()}"', "title", page_url
                )
    if said is LinkType.EDITORIAL:
        return LinkTypeGuess(LinkType.EDITORIAL, f'page type "{tool_says}"', "page type", page_url)
    return LinkTypeGuess(LinkType.OTHER, "nothing in the URL or title tells", "none", page_url)


def guess_of(evidence: Evidence) -> LinkTypeGuess:
    """Guess the link type of an evidence page."""
    return detect_link_type(
        evidence.page_url, evidence.title, evidence.page_type, evidence.page_category
    )


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


def domain_link_type(evidence: Iterable[Evidence]) -> LinkTypeGuess:
    """Guess a referring domain's link type from its evidence pages.

    The most common guess wins; ties go to the type that is easiest to pitch
    (resource pages before roundups before comparisons ...), "other" last.
    """
    guesses = [guess_of(e) for e in evidence]
    known = [g for g in guesses if g.link_type is not LinkType.OTHER]
    if not known:
        return guesses[0] if guesses else LinkTypeGuess(LinkType.OTHER, "no evidence pages", "none")
    counts = Counter(g.link_type for g in known)
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
