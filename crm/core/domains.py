"""Fold hosts and URLs to registrable domains (DESIGN §4), offline.

The public suffix list is the one bundled with `publicsuffixlist` (private
suffixes included, so `someone.blogspot.com` is its own domain); nothing is
fetched at run time. The canonical form of an internationalised name is its
Unicode form (IDNA 2008 with UTS #46 mapping), so `xn--bcher-kva.de` and
`Bücher.de` give the same string.

Decisions worth knowing:

- IP addresses are accepted as-is (IPv4 dotted, IPv6 compressed, without
  brackets): pages served from an IP do link to sites, and refusing them
  would make a whole export fail on one row.
- A host that is itself a public suffix with more than one label
  (`blogspot.com`, `co.uk`) is its own domain; a single-label host
  (`localhost`, `com`) is refused.
- ASCII labels may contain `_` (seen in real hosts, refused by IDNA 2008).
  Names IDNA 2008 refuses (emoji) fall back to IDNA 2003 so both spellings
  still fold together.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache

import idna
import publicsuffixlist
from publicsuffixlist import PublicSuffixList

__all__ = [
    "DomainError",
    "has_known_suffix",
    "host_of",
    "is_ip",
    "registrable_domain",
    "same_domain",
]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
# The common case, an ASCII http(s) URL or bare host, in one regex; anything
# else (IDN, IP, odd schemes, junk) takes the careful path below.
_LABEL = r"[a-z0-9_](?:[a-z0-9_\-]*[a-z0-9_])?"
_FAST_HOST = re.compile(
    rf"(?:https?://)?(?:[^@/?#\\\s]*@)?((?:{_LABEL}\.)+{_LABEL})\.?(?::[0-9]*)?(?:[/?#\\].*)?",
    re.IGNORECASE | re.DOTALL,
)
_ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]*[a-z0-9_])?$")
_MAX_HOST = 253


class DomainError(ValueError):
    """A value that is not a host, URL or domain name."""


@cache
def _psl() -> PublicSuffixList:
    # Built on first use (it parses the bundled list), never at import time.
    return PublicSuffixList(only_icann=False)


def _netloc(text: str) -> str:
    """Return the authority part of a URL, or the text up to its first path char."""
    match = _SCHEME.match(text)
    if match:
        rest = text[match.end() :]
    elif text.startswith("//"):
        rest = text[2:]
    else:
        rest = text
    for stop in "/?#\\":
        cut = rest.find(stop)
        if cut >= 0:
            rest = rest[:cut]
    return rest


def _strip_userinfo_and_port(netloc: str, original: str) -> str:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise DomainError(f"not a host name: {original!r}")
        tail = host[end + 1 :]
        if tail and not (tail.startswith(":") and tail[1:].isdigit()):
            raise DomainError(f"not a host name: {original!r}")
        return host[: end + 1]
    if host.count(":") == 1:
        host, _, port = host.partition(":")
        if port and not port.isdigit():
            raise DomainError(f"not a host name: {original!r}")
    return host


@lru_cache(maxsize=1 << 17)
def host_of(host_or_url: str) -> str:
    """Return the normalised host of a URL or host name (www. kept).

    Lower-cased, without scheme, userinfo, port, path or trailing dot, IDN in
    Unicode form; an IP address in its canonical form.
    """
    text = host_or_url.strip()
    fast = _FAST_HOST.fullmatch(text)
    if fast:
        host = fast.group(1).lower()
        if "xn--" not in host and not host[-1].isdigit() and len(host) <= _MAX_HOST:
            return host
    if not text:
        raise DomainError("empty host name")
    host = _strip_userinfo_and_port(_netloc(text), host_or_url)
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            raise DomainError(f"not a host name: {host_or_url!r}") from None
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise DomainError(f"no host name in {host_or_url!r}")
    if host.isascii():
        host = host.lower()
        if host[-1].isdigit() and _looks_ipv4(host):
            return host
        if ":" in host:  # a bare IPv6 address without brackets
            try:
                return str(ipaddress.IPv6Address(host))
            except ValueError:
                raise DomainError(f"not a host name: {host_or_url!r}") from None
        if "xn--" in host:
            host = _unicode_host(host, host_or_url)
        elif not all(_ASCII_LABEL.match(label) for label in host.split(".")):
            raise DomainError(f"not a host name: {host_or_url!r}")
    else:
        host = _unicode_host(host, host_or_url)
    if len(host) > _MAX_HOST or any(not label for label in host.split(".")):
        raise DomainError(f"not a host name: {host_or_url!r}")
    return host


def _looks_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _unicode_host(host: str, original: str) -> str:
    """Map a host with non-ASCII or xn-- labels to its canonical Unicode form."""
    try:
        return idna.decode(idna.encode(host, uts46=True, transitional=False))
    except (idna.IDNAError, UnicodeError):
        pass
    # IDNA 2008 refuses some names browsers still resolve (emoji, symbols);
    # IDNA 2003 (the stdlib codec) maps them consistently in both spellings.
    try:
        ascii_form = host.encode("idna") if not host.isascii() else host.encode("ascii")
        return ascii_form.decode("idna").lower()
    except UnicodeError:
        raise DomainError(f"not a valid internationalised host name: {original!r}") from None


def is_ip(host: str) -> bool:
    """Tell whether a normalised host is an IP address."""
    if ":" in host:
        return True
    return host[-1:].isdigit() and _looks_ipv4(host)


@cache
def _rule_tails() -> frozenset[str]:
    """Every label suffix of every public suffix rule (`a.b.c` gives c, b.c, a.b.c)."""
    tails = set()
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as rules:
        for line in rules:
            rule = line.strip().split(" ")[0].lower()
            if not rule or rule.startswith("//"):
                continue
            rule = rule.removeprefix("!").removeprefix("*.")
            labels = rule.split(".")
            for i in range(len(labels)):
                tails.add(".".join(labels[i:]))
    return frozenset(tails)


@lru_cache(maxsize=4096)
def _public_labels(tail: str, longer: bool) -> int:
    """Count the public-suffix labels of any host ending in `tail` (longer: with more labels).

    Only labels matching some rule's tail can take part in a rule, so this
    answer holds for every such host and the list is walked once per tail.
    """
    if not tail:
        return 1  # unknown TLD: the list's default rule "*"
    # "#" never occurs in a rule, so it stands for "some further label".
    suffix = _psl().publicsuffix(f"#.{tail}" if longer else tail)
    return suffix.count(".") + 1 if suffix else 1


@lru_cache(maxsize=1 << 17)
def _registrable_of_host(host: str) -> str:
    if is_ip(host):
        return host
    labels = host.split(".")
    count = len(labels)
    if count < 2:
        raise DomainError(f"not a domain name: {host!r}")
    tails = _rule_tails()
    tail = ""
    depth = 0
    while depth < count:
        longer = f"{labels[-1 - depth]}.{tail}" if tail else labels[-1]
        if longer not in tails:
            break
        tail = longer
        depth += 1
    public = _public_labels(tail, depth < count)
    if public >= count:
        # A multi-label public suffix (blogspot.com, co.uk) is its own domain.
        return host[4:] if host.startswith("www.") and count > 2 else host
    return ".".join(labels[-public - 1 :])


def registrable_domain(host_or_url: str) -> str:
    """Return the registrable domain of a host, URL or domain (DESIGN §4).

    Raise DomainError for junk: empty text, a single-label host, characters
    no host name may hold.
    """
    return _registrable_of_host(host_of(host_or_url))


def email_domain(address: str) -> str:
    """Return the registrable domain of an address (what a domain suppression names).

    An address whose host has none (a single label, junk) gives its host, lower-cased.
    """
    host = address.rpartition("@")[2]
    try:
        return registrable_domain(host)
    except DomainError:
        return host.lower()


def has_known_suffix(domain: str) -> bool:
    """Tell whether a domain ends in a suffix the public suffix list names."""
    return _psl().publicsuffix(domain, accept_unknown=False) is not None


def same_domain(a: str, b: str) -> bool:
    """Tell whether two hosts or URLs fold to the same registrable domain."""
    return registrable_domain(a) == registrable_domain(b)
