"""Which addresses the link checker may connect to directly (pure).

A won link's source URL is typed by a person, and every redirect it answers
with is chosen by someone else's server: without a rule, "check this link"
would let anyone make the app open its own admin ports, the cloud metadata
service or the office network. On direct connections the checker refuses
loopback, private, link-local, multicast and other non-public addresses, on
every hop, after DNS resolution (the address it then connects to is the one
that was checked). `CRM_LINKS_ALLOW_PRIVATE=1` lifts the rule for intranets
and tests; a comma-separated list of networks (`10.20.0.0/16,127.0.0.1`)
lifts it for those networks only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_ALL = ("1", "true", "yes", "on", "all")
_NONE = ("", "0", "false", "no", "off")


def _kind(ip: IPAddress) -> str | None:
    """Name what makes an address non-public, or None for a public one."""
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "non-public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_all: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_setting(cls, value: object) -> AddressPolicy:
        """Read CRM_LINKS_ALLOW_PRIVATE: off, on (1) or a list of networks."""
        if isinstance(value, bool):
            return cls(allow_all=value)
        text = str(value if value is not None else "").strip().lower()
        if text in _ALL:
            return cls(allow_all=True)
        if text in _NONE:
            return cls()
        networks = []
        for part in text.replace(";", ",").split(","):
            if part.strip():
                try:
                    networks.append(ipaddress.ip_network(part.strip(), strict=False))
                except ValueError:
                    raise ValueError(
                        f"CRM_LINKS_ALLOW_PRIVATE: {part.strip()!r} is not 1, 0 or a network"
                    ) from None
        return cls(allowed=tuple(networks))

    def refusal(self, address: str) -> str | None:
        """Why a direct connection to `address` is refused, or None when it is allowed."""
        try:
            ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        kind = _kind(ip)
        if kind is None or self.allow_all:
            return None
        if any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        return f"{ip} is a {kind} address"
