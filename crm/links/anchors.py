"""Which anchor type an anchor text is (DESIGN §3): a suggestion the person may change.

Rules, in order (the first that holds wins):

1. no text (an image link, or nothing typed) -> image
2. the text is a URL or a host name of our site -> naked URL
3. the text names the brand or the site's domain label -> branded
4. the text is one of the target page's keywords (case, punctuation and
   spacing aside) -> exact
5. a stock phrase ("click here", "this article", "website") -> generic
6. the text contains a keyword, or most of a keyword's words -> partial
7. anything else -> generic
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from crm.core.domains import DomainError, registrable_domain
from crm.models import AnchorType

GENERIC_PHRASES = frozenset(
    {
        "click here", "here", "this", "link", "this link", "read more", "more", "learn more",
        "see more", "find out more", "more info", "more information", "details", "source",
        "this source", "website", "this website", "web site", "site", "this site", "homepage",
        "home page", "this page", "page", "this article", "article", "this post", "post",
        "this guide", "guide", "this tool", "tool", "resource", "this resource", "check it out",
        "check this out", "visit", "visit site", "visit website", "go", "via", "according to",
        "reported", "study", "this study", "research", "report", "this report", "blog",
        "their blog", "official site", "download", "sign up", "try it", "learn how",
    }
)  # fmt: skip
_URLISH = re.compile(r"^(?:https?://|www\.)\S+$|^[\w-]+(?:\.[\w-]+)+(?:/\S*)?$", re.I)
_WORD = re.compile(r"\w+")
# Words that carry no topic: a keyword's other words decide a partial match.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "best",
        "by",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "what",
        "with",
        "your",
        "you",
        "our",
        "top",
    ]
)


@dataclass(frozen=True)
class AnchorSuggestion:
    anchor_type: AnchorType
    reason: str


def words(text: str) -> list[str]:
    """Lower-case words of a text, accents folded (so "Café" matches "cafe")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


def phrase(text: str) -> str:
    return " ".join(words(text))


def _site_label(site_domain: str) -> str:
    """The distinctive label of a domain: `acme` for `www.acme.co.uk`."""
    try:
        domain = registrable_domain(site_domain)
    except DomainError:
        domain = site_domain.lower()
    return domain.split(".")[0]


def _host_of_text(text: str) -> str | None:
    candidate = text.strip().rstrip("/")
    if not _URLISH.match(candidate):
        return None
    try:
        return registrable_domain(candidate)
    except DomainError:
        return None


def suggest_anchor_type(
    anchor: str,
    *,
    brand: str,
    site_domain: str,
    keywords: Iterable[str],
    image: bool = False,
) -> AnchorSuggestion:
    """Suggest the anchor type of `anchor` for a link to `site_domain`'s target page."""
    text = anchor.strip()
    said = phrase(text)
    if image or not said:
        return AnchorSuggestion(AnchorType.IMAGE, "no anchor text: an image link")
    try:
        ours = registrable_domain(site_domain)
    except DomainError:
        ours = site_domain.lower()
    host = _host_of_text(text)
    if host is not None and host == ours:
        return AnchorSuggestion(AnchorType.NAKED, f"the anchor is a URL of {ours}")
    names = {phrase(brand), phrase(_site_label(site_domain)), phrase(ours)} - {""}
    for name in sorted(names, key=len, reverse=True):
        if f" {name} " in f" {said} " or said.replace(" ", "") == name.replace(" ", ""):
            return AnchorSuggestion(AnchorType.BRANDED, f"the anchor names the brand ({name})")
    keys = [k for k in (phrase(k) for k in keywords) if k]
    for key in keys:
        if said == key:
            return AnchorSuggestion(AnchorType.EXACT, f"the anchor is the keyword “{key}”")
    if said in GENERIC_PHRASES:
        return AnchorSuggestion(AnchorType.GENERIC, f"“{said}” says nothing about the page")
    said_words = set(said.split())
    for key in keys:
        if f" {key} " in f" {said} ":
            return AnchorSuggestion(AnchorType.PARTIAL, f"the anchor contains the keyword “{key}”")
        topical = [w for w in key.split() if w not in _STOPWORDS]
        shared = [w for w in topical if w in said_words]
        if topical and len(shared) * 2 >= len(topical) and shared:
            return AnchorSuggestion(
                AnchorType.PARTIAL, f"the anchor shares {', '.join(shared)} with “{key}”"
            )
    if host is not None:
        return AnchorSuggestion(AnchorType.NAKED, "the anchor is a URL")
    return AnchorSuggestion(AnchorType.GENERIC, "no brand, domain or keyword in the anchor")
