"""Reading a fetched page: its text, the links it really shows, and its robots rules (pure).

The parser is Lexbor (selectolax), an HTML5 parser that builds the tree a
browser builds, so broken markup is read the way visitors see it. A link only
counts when a visitor (and a search engine) sees it: markup inside a comment,
a `<template>` or a `<script>` is not a link at all, and an `<a>` inside
`<noscript>` is dropped too (browsers with scripts on never render it).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crm.links.urls import link_key
from crm.models import LinkRel

_HIDDEN = frozenset({"noscript", "template", "script", "style", "textarea", "title"})
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_:.\-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SPACES = re.compile(r"\s+")
_ROBOT_NAMES = frozenset({"robots", "googlebot", "bingbot"})


@dataclass(frozen=True)
class PageLink:
    """One visible <a> that points at the target."""

    href: str
    anchor: str  # visible text, or the alt text of its image
    image: bool
    rel_tokens: tuple[str, ...]


@dataclass
class PageScan:
    links: list[PageLink] = field(default_factory=list)
    robots: tuple[str, ...] = ()  # robots rules of the page (meta and header), lower-case
    base_url: str = ""


def _charset(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_page(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Return a page's text and the charset used: BOM, then HTTP header, then <meta>, then UTF-8."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    header = _HEADER_CHARSET.search(content_type or "")
    found = _charset(header.group(1) if header else None)
    if found is None:
        meta = _META_CHARSET.search(body[:4096])
        found = _charset(meta.group(1).decode("ascii", "replace") if meta else None)
    name = found or "utf-8"
    return body.decode(name, errors="replace"), name


def _hidden(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in _HIDDEN:
            return True
        parent = parent.parent
    return False


def clean_text(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _anchor_of(node: LexborNode) -> tuple[str, bool]:
    text = clean_text(node.text(deep=True))
    if text:
        return text, False
    image = node.css_first("img")
    if image is not None:
        return clean_text(image.attributes.get("alt") or ""), True
    return "", False


def robots_rules(meta_values: Iterable[str], header_values: Iterable[str]) -> tuple[str, ...]:
    """The robots rules of a page from its <meta name=robots> and X-Robots-Tag values.

    `none` means noindex and nofollow. An X-Robots-Tag rule aimed at one crawler
    (`googlebot: nofollow`) counts too: the link is worth less to that engine.
    """
    rules: set[str] = set()
    for value in [*meta_values, *header_values]:
        for part in value.split(","):
            token = part.strip().lower()
            if ":" in token and not token.startswith(("unavailable_after", "max-")):
                token = token.split(":", 1)[1].strip()
            if token == "none":
                rules.update({"noindex", "nofollow"})
            elif token in ("noindex", "nofollow"):
                rules.add(token)
    return tuple(sorted(rules))


def parse(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def base_url_of(tree: LexborHTMLParser, page_url: str) -> str:
    """The URL relative links resolve against: the first <base href>, else the page's URL."""
    base = tree.css_first("base[href]")
    if base is not None:
        href = (base.attributes.get("href") or "").strip()
        if href and link_key(href, page_url) is not None:
            from urllib.parse import urljoin

            return urljoin(page_url, href)
    return page_url


def scan_page(
    html: str, page_url: str, target_url: str, header_robots: Iterable[str] = ()
) -> PageScan:
    """Find the visible links of a page that point at `target_url`, and the page's robots rules."""
    tree = parse(html)
    base = base_url_of(tree, page_url)
    target = link_key(target_url)
    scan = PageScan(base_url=base)
    meta = [
        n.attributes.get("content") or ""
        for n in tree.css("meta[name]")
        if (n.attributes.get("name") or "").strip().lower() in _ROBOT_NAMES and not _hidden(n)
    ]
    scan.robots = robots_rules(meta, header_robots)
    for node in tree.css("a[href], area[href]"):
        href = node.attributes.get("href") or ""
        if target is None or link_key(href, base) != target or _hidden(node):
            continue
        anchor, image = _anchor_of(node)
        if node.tag == "area":
            anchor, image = clean_text(node.attributes.get("alt") or ""), True
        rel = tuple((node.attributes.get("rel") or "").lower().split())
        scan.links.append(PageLink(href=href, anchor=anchor, image=image, rel_tokens=rel))
    return scan


def effective_rel(rel_tokens: Iterable[str], robots: Iterable[str]) -> tuple[LinkRel, str]:
    """The rel a search engine applies to a link, and why, from its tokens and the page's rules."""
    tokens = set(rel_tokens)
    for rel in (LinkRel.SPONSORED, LinkRel.UGC, LinkRel.NOFOLLOW):
        if rel.value in tokens:
            return rel, f'rel="{" ".join(sorted(tokens))}" on the link'
    if "nofollow" in set(robots):
        return LinkRel.NOFOLLOW, "the page's robots rules say nofollow"
    return LinkRel.DOFOLLOW, "no nofollow, sponsored or ugc"


def visible_text(html: str) -> str:
    """The text a visitor reads (scripts, styles, templates and noscript left out)."""
    tree = parse(html)
    for node in tree.css(", ".join(sorted(_HIDDEN))):
        node.decompose()
    body = tree.body
    return clean_text(body.text(separator=" ") if body is not None else "")


def linked_keys(html: str, page_url: str) -> list[str]:
    """The comparable URLs of every visible link of a page."""
    tree = parse(html)
    base = base_url_of(tree, page_url)
    keys = []
    for node in tree.css("a[href], area[href]"):
        if _hidden(node):
            continue
        key = link_key(node.attributes.get("href") or "", base)
        if key is not None:
            keys.append(key)
    return keys
