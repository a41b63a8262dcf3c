"""URLs of won links: what a source URL may be, and when two URLs name the same page.

A page links to our target when one of its hrefs, resolved against the page
(and its `<base href>`), names the same page as the target. "Same page" folds
what never changes the page a browser lands on: the scheme (http and https),
a leading `www.`, the case of the host, IDN spellings, a default port, a
trailing slash, percent-encoding of unreserved characters, dot segments, the
fragment, the order of query parameters and click-tracking parameters
(`utm_*`, `gclid`, `fbclid`...). The path keeps its case: servers may tell
`/Guide` from `/guide`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

from crm.core.domains import DomainError, host_of, registrable_domain
from crm.core.errors import UserError

__all__ = ["clean_page_url", "link_key", "on_domain", "same_page"]

_TRACKING = re.compile(r"^(utm_[a-z]+|gclid|fbclid|msclkid|mc_cid|mc_eid|_ga|ref_src)$", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Browsers drop ASCII tab and newlines anywhere in an href, and C0/space at its ends.
_STRIPPED_INSIDE = str.maketrans("", "", "\t\n\r")
_UNRESERVED = "-._~"
MAX_URL_LENGTH = 2048


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as browsers apply it."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(segment)
    return "/".join(out)


def _normal_path(path: str) -> str:
    # Decode only what never needs encoding, then re-encode what must be (one spelling).
    decoded = unquote(path, errors="surrogateescape")
    try:
        text = quote(decoded, safe="/!$&'()*+,;=:@%" + _UNRESERVED)
    except UnicodeEncodeError:
        text = path
    text = _remove_dot_segments(text or "/")
    if not text.startswith("/"):
        text = "/" + text
    if len(text) > 1 and text.endswith("/"):
        text = text.rstrip("/") or "/"
    return text


def _normal_query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlencode(sorted(pairs))


def link_key(href: str, base: str | None = None) -> str | None:
    """Return the comparable form of an http(s) URL (resolved against `base`); None otherwise.

    `link_key(a) == link_key(b)` when both URLs name the same page (see the module's doc).
    """
    text = href.strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f").translate(
        _STRIPPED_INSIDE
    )
    if not text and base is None:
        return None
    try:
        url = urljoin(base, text) if base else text
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        host = host_of(parts.hostname)
    except DomainError:
        return None
    if ":" in host:
        host = f"[{host}]"
    host = host.removeprefix("www.")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    key = netloc + _normal_path(parts.path)
    query = _normal_query(parts.query)
    return f"{key}?{query}" if query else key


def same_page(a: str, b: str) -> bool:
    """Tell whether two absolute URLs name the same page."""
    key = link_key(a)
    return key is not None and key == link_key(b)


def on_domain(url: str, domain: str) -> bool:
    """Tell whether a URL's host is `domain` (a registrable domain) or one of its subdomains."""
    try:
        return registrable_domain(urlsplit(url).hostname or "") == domain
    except (DomainError, ValueError):
        return False


def clean_page_url(value: str, field: str, label: str) -> str:
    """Return an absolute http(s) URL without its fragment; UserError naming the field."""
    text = (value or "").strip()
    if not text:
        raise UserError(f"{label}: enter the page's URL", field=field)
    if len(text) > MAX_URL_LENGTH:
        raise UserError(f"{label}: longer than {MAX_URL_LENGTH} characters", field=field)
    if any(c.isspace() for c in text):
        raise UserError(f"{label}: {text!r} is not a URL (it has spaces)", field=field)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UserError(f"{label}: {text!r} is not a URL", field=field) from None
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        raise UserError(
            f"{label}: {text!r} is not a URL (write it in full, with https://)", field=field
        )
    if scheme not in _DEFAULT_PORTS:
        raise UserError(
            f"{label}: only http and https pages can be checked, not {scheme}:", field=field
        )
    try:
        host_of(parts.hostname or "")
    except DomainError:
        raise UserError(f"{label}: {text!r} has no valid host name", field=field) from None
    return parts._replace(scheme=scheme, fragment="").geturl()
