"""Signed one-click unsubscribe tokens (RFC 8058) for the List-Unsubscribe header.

The token carries the recipient's address and the touch it was sent in, and
is signed with the app's secret key (``CRM_SECRET_KEY``), passed in
explicitly so this module needs no app. It does not expire: a recipient may
unsubscribe from an old email at any time. Pass a list of secrets, newest
last, to keep old links working after a key rotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from itsdangerous import BadData, URLSafeSerializer

_SALT = "linkgap.unsubscribe.v1"

Secret = str | bytes | Sequence[str | bytes]


class InvalidUnsubscribeToken(ValueError):
    """The token was not made by us, was altered, or is malformed."""


@dataclass(frozen=True)
class UnsubscribeRequest:
    """Who asked to unsubscribe, and from which touch."""

    email: str
    touch_id: int | str | None


def _serializer(secret: Secret) -> URLSafeSerializer:
    if isinstance(secret, str | bytes):
        if not secret:
            raise ValueError("an unsubscribe token needs a non-empty secret")
        return _cached_serializer((secret,) if isinstance(secret, bytes) else (secret.encode(),))
    keys = tuple(k.encode() if isinstance(k, str) else k for k in secret)
    if not keys or not all(keys):
        raise ValueError("an unsubscribe token needs a non-empty secret")
    return _cached_serializer(keys)


@lru_cache(maxsize=16)
def _cached_serializer(keys: tuple[bytes, ...]) -> URLSafeSerializer:
    return URLSafeSerializer(list(keys), salt=_SALT)


def make_unsubscribe_token(secret: Secret, email: str, touch_id: int | str | None) -> str:
    """Return a URL-safe signed token for this address and touch."""
    address = email.strip()
    if "@" not in address:
        raise ValueError(f"{email!r} is not an email address")
    return str(_serializer(secret).dumps([address, touch_id]))


def read_unsubscribe_token(secret: Secret, token: str) -> UnsubscribeRequest:
    """Return what a token says, or raise InvalidUnsubscribeToken."""
    try:
        payload = _serializer(secret).loads(token)
    except BadData:
        raise InvalidUnsubscribeToken("this unsubscribe link is not valid") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], str)
        or not isinstance(payload[1], int | str | None)
    ):
        raise InvalidUnsubscribeToken("this unsubscribe link is not valid")
    return UnsubscribeRequest(email=payload[0], touch_id=payload[1])


def unsubscribe_url(base_url: str, token: str) -> str:
    """Return the one-click URL ``BASE/u/TOKEN`` under the public base URL."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ValueError(f"base URL {base_url!r} must start with https:// or http://")
    return f"{base}/u/{quote(token, safe='')}"


def unsubscribe_mailto(address: str) -> str:
    """Return a ``mailto:`` unsubscribe target that lands in the sending mailbox."""
    return f"mailto:{address.strip()}?subject=unsubscribe"
