"""Fetching a source page for a link check: every hop recorded, bounded in time and size.

The HTTP client is urllib3: it streams (so a size cap stops reading a huge
or compressed page early), takes separate connect and read timeouts, speaks
to HTTP and HTTPS proxies (CONNECT), and lets each direct connection go to
an address we resolved and checked ourselves while TLS still verifies the
certificate against the host name. Redirects are followed here, one hop at a
time, so each hop is recorded and checked.

Proxies come from the standard `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`
variables (read through the standard library, as every Python client does).
Through a proxy the proxy decides where traffic may go; on a direct
connection `AddressPolicy` refuses non-public addresses.

At most one request at a time goes to a host, and requests to the same host
are spaced (`HostPacer`), whichever link or redirect they belong to.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from crm.core.ids import parse_whole
from crm.links.addresses import AddressPolicy

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36 (compatible; Linkgap link checker; self-hosted outreach CRM)"
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHUNK = 64 * 1024

Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    # The whole fetch, redirects and a slowly dripping body included.
    total_timeout: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 10
    host_spacing: float = 2.0
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    ca_file: str | None = None
    # Fixed answers for host names, like curl's --resolve (a staging page, tests).
    resolve: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FetchSettings:
        def number(name: str, default: float) -> float:
            value = config.get(name)
            return float(value) if value not in (None, "") else default

        resolve = config.get("LINKS_RESOLVE") or {}
        if isinstance(resolve, str):
            import json

            resolve = json.loads(resolve)
        return cls(
            user_agent=str(config.get("LINKS_USER_AGENT") or DEFAULT_USER_AGENT),
            connect_timeout=number("LINKS_CONNECT_TIMEOUT_SECONDS", 10.0),
            read_timeout=number("LINKS_READ_TIMEOUT_SECONDS", 15.0),
            total_timeout=number("LINKS_TOTAL_TIMEOUT_SECONDS", 30.0),
            max_bytes=int(number("LINKS_MAX_BYTES", 5 * 1024 * 1024)),
            max_redirects=int(number("LINKS_MAX_REDIRECTS", 10)),
            host_spacing=number("LINKS_HOST_SPACING_SECONDS", 2.0),
            policy=AddressPolicy.from_setting(config.get("LINKS_ALLOW_PRIVATE")),
            ca_file=config.get("LINKS_CA_FILE") or None,
            resolve={str(k).lower(): str(v) for k, v in dict(resolve).items()},
        )


@dataclass(frozen=True)
class Hop:
    url: str
    status: int | None
    location: str = ""
    address: str = ""  # the IP we connected to ("" through a proxy)

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "location": self.location,
            "address": self.address,
        }


@dataclass
class Fetched:
    """What one fetch got: the last answer, or why there is none (`problem`)."""

    url: str
    hops: list[Hop] = field(default_factory=list)
    status: int | None = None
    final_url: str = ""
    content_type: str = ""
    robots_headers: list[str] = field(default_factory=list)
    body: bytes | None = None
    problem: str | None = None
    via_proxy: bool = False
    duration_ms: int = 0


class HostPacer:
    """One request at a time per host, `spacing` seconds apart (shared by every worker thread)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next[host] = time.monotonic() + self.spacing


class _Problem(Exception):
    """A fetch ends inconclusive, for this reason."""


def _proxy_for(url: str) -> str | None:
    """The proxy the standard variables name for this URL, or None (direct, or NO_PROXY)."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme.lower())
    if not proxy:
        return None
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    return text.split(": ", 1)[-1][:200]


class PageFetcher:
    """Fetch pages for link checks with the settings' limits; never raises for a bad page."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        resolver: Resolver = resolve_host,
        pacer: HostPacer | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.pacer = pacer or HostPacer(settings.host_spacing)

    def fetch(self, url: str) -> Fetched:
        started = time.monotonic()
        deadline = started + self.settings.total_timeout
        result = Fetched(url=url)
        current = url
        try:
            for _ in range(self.settings.max_redirects + 1):
                if time.monotonic() > deadline:
                    raise _Problem(f"timed out: no answer within {self.settings.total_timeout:g} s")
                location = self._hop(current, result, deadline)
                if location is None:
                    return result
                current = urljoin(current, location)
            raise _Problem(f"more than {self.settings.max_redirects} redirects")
        except _Problem as problem:
            result.problem = str(problem)
            result.body = None
            return result
        finally:
            result.duration_ms = int((time.monotonic() - started) * 1000)

    # --- one request -------------------------------------------------------------------

    def _hop(self, url: str, result: Fetched, deadline: float) -> str | None:
        """Request one URL; return the redirect's Location, or None when this is the answer."""
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            host = (parts.hostname or "").lower()
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise _Problem(f"not a valid URL: {url[:200]}") from None
        if scheme not in ("http", "https") or not host:
            raise _Problem(f"redirected to a URL that is not http(s): {url[:200]}")
        proxy = _proxy_for(url)
        result.via_proxy = result.via_proxy or proxy is not None
        with self.pacer.turn(host):
            if proxy is not None:
                pool, target, address = self._through_proxy(proxy, url), url, ""
            else:
                address = self._checked_address(host, port)
                pool = self._direct(scheme, address, host, port)
                target = parts.path or "/"
                if parts.query:
                    target += "?" + parts.query
            try:
                return self._request(pool, url, target, host, parts, address, result, deadline)
            finally:
                (pool.clear if proxy is not None else pool.close)()

    def _checked_address(self, host: str, port: int) -> str:
        try:
            fixed = self.settings.resolve.get(host)
            addresses = [fixed] if fixed else self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise _Problem(f"DNS: cannot resolve {host} ({_short(exc)})") from None
        if not addresses:
            raise _Problem(f"DNS: {host} has no address")
        refusals = []
        for address in addresses:
            refusal = self.settings.policy.refusal(address)
            if refusal is None:
                return address
            refusals.append(refusal)
        raise _Problem(
            f"refused to connect to {host}: {refusals[0]} "
            "(set CRM_LINKS_ALLOW_PRIVATE=1 to check intranet pages)"
        )

    def _resolve(self, host: str, port: int) -> list[str]:
        bare = host.strip("[]")
        try:
            import ipaddress

            return [str(ipaddress.ip_address(bare))]
        except ValueError:
            return self.resolver(host, port)

    def _timeout(self, deadline: float) -> urllib3.Timeout:
        left = max(0.1, deadline - time.monotonic())
        return urllib3.Timeout(
            connect=min(self.settings.connect_timeout, left),
            read=min(self.settings.read_timeout, left),
        )

    def _tls(self) -> dict[str, Any]:
        return {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": self.settings.ca_file}

    def _direct(self, scheme: str, address: str, host: str, port: int) -> Any:
        if scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, retries=False,
                **self._tls(),
            )  # fmt: skip
        return urllib3.HTTPConnectionPool(address, port, retries=False)

    def _through_proxy(self, proxy: str, url: str) -> Any:
        parts = urlsplit(proxy)
        headers = None
        if parts.username:
            from urllib.parse import unquote

            auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers = urllib3.make_headers(proxy_basic_auth=auth)
        return urllib3.ProxyManager(proxy, proxy_headers=headers, retries=False, **self._tls())

    def _headers(self, host: str, parts: Any) -> dict[str, str]:
        default = 443 if parts.scheme.lower() == "https" else 80
        host_header = host if not parts.port or parts.port == default else f"{host}:{parts.port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]"
        return {
            "Host": host_header,
            "User-Agent": self.settings.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Language": "en;q=0.9,*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        }

    def _request(
        self,
        pool: Any,
        url: str,
        target: str,
        host: str,
        parts: Any,
        address: str,
        result: Fetched,
        deadline: float,
    ) -> str | None:
        headers = self._headers(host, parts)
        options: dict[str, Any] = {}
        if address == "":
            headers.pop("Host")  # the proxy manager writes it from the URL
        else:
            options["assert_same_host"] = False  # the pool is keyed by the checked address
        try:
            response = pool.urlopen(
                "GET", target, headers=headers, redirect=False, retries=False,
                preload_content=False, decode_content=True, timeout=self._timeout(deadline),
                **options,
            )  # fmt: skip
        except NewConnectionError as exc:  # before its base class, ConnectTimeoutError
            raise _Problem(f"could not connect to {host}: {_short(exc)}") from None
        except ConnectTimeoutError:
            raise _Problem(f"timed out connecting to {host}") from None
        except ReadTimeoutError:
            raise _Problem(f"timed out waiting for {host} to answer") from None
        except SSLError as exc:
            raise _Problem(f"TLS error with {host}: {_short(exc)}") from None
        except ProxyError as exc:
            raise _Problem(f"proxy error: {_short(exc)}") from None
        except (ProtocolError, LocationParseError, HTTPError, OSError) as exc:
            raise _Problem(f"connection to {host} failed: {_short(exc)}") from None
        try:
            return self._answer(response, url, address, result, deadline)
        finally:
            response.release_conn()
            response.close()

    def _answer(
        self, response: Any, url: str, address: str, result: Fetched, deadline: float
    ) -> str | None:
        status = int(response.status)
        location = response.headers.get("Location", "") if 300 <= status < 400 else ""
        result.hops.append(Hop(url=url, status=status, location=location, address=address))
        result.status = status
        result.final_url = url
        if 300 <= status < 400 and status != 304:
            if not location:
                raise _Problem(f"HTTP {status} redirect without a Location")
            return location
        result.content_type = response.headers.get("Content-Type", "")
        result.robots_headers = list(response.headers.getlist("X-Robots-Tag"))
        if not 200 <= status < 300:
            return None
        media = result.content_type.split(";", 1)[0].strip().lower()
        if media and media not in _HTML_TYPES:
            raise _Problem(f"not an HTML page ({media})")
        result.body = self._read_body(response, deadline)
        if not media and b"\x00" in result.body[:1024]:
            raise _Problem("not an HTML page (binary content)")
        return None

    def _read_body(self, response: Any, deadline: float) -> bytes:
        cap = self.settings.max_bytes
        # The page's own claim: hostile like the rest of it ("²", 5,000 digits).
        declared = parse_whole(response.headers.get("Content-Length"), maximum=2**63)
        if declared is not None and declared > cap:
            raise _Problem(f"page larger than {_size(cap)} ({_size(declared)})")
        chunks: list[bytes] = []
        size = 0
        try:
            # read1 returns what has arrived: a slowly dripping page meets the deadline.
            while chunk := response.read1(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise _Problem(f"page larger than {_size(cap)}")
                if time.monotonic() > deadline:
                    raise _Problem(
                        f"timed out: the page took longer than {self.settings.total_timeout:g} s"
                    )
                chunks.append(chunk)
        except ReadTimeoutError:
            raise _Problem("timed out reading the page") from None
        except (ProtocolError, HTTPError, OSError) as exc:
            raise _Problem(f"connection broken while reading the page: {_short(exc)}") from None
        return b"".join(chunks)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB".replace(".0 ", " ")
    return f"{n / 1024:.0f} KiB"
