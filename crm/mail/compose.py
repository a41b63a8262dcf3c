"""Build the email of one touch (DESIGN §5): headers, threading and unsubscribe.

Every message has Date, a Message-ID under the mailbox's domain, From with
the sender's name, a plain-text part (and optionally an HTML one),
``List-Unsubscribe`` with a signed one-click URL and
``List-Unsubscribe-Post``. A follow-up replies in the thread of the first
touch: "Re: " + the first subject, ``In-Reply-To`` the touch before it and
``References`` every earlier touch.

All header values are checked here; a CR, LF or other control character in
any of them raises ``ComposeError`` rather than producing a header that
could smuggle in another one.
"""

from __future__ import annotations

import hashlib
import quopri
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import parser as email_parser
from email import policy as email_policy
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formataddr
from functools import lru_cache
from typing import Any

import idna

_RE_PREFIX = re.compile(r"^\s*re\s*:\s*", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


class ComposeError(ValueError):
    """A touch's message cannot be built safely; the reason is one line."""


class _UriListHeader(UnstructuredHeader, BaseHeader):
    """A header of <URI>, <URI> that folds only between URIs and is never encoded.

    The stock folding turns a long one-click URL into RFC 2047 encoded words,
    which mail providers do not decode in List-Unsubscribe.
    """

    def fold(self, *, policy: Policy) -> str:
        items = [item.strip() for item in str(self).split(",") if item.strip()]
        separator = "," + policy.linesep + " "
        return f"{self.name}: {separator.join(items)}{policy.linesep}"


class _SubjectHeader(UnstructuredHeader, BaseHeader):
    """A Subject whose non-ASCII form is encoded whole, so it decodes to exactly itself.

    The stock folding mixes plain words and encoded words and can add a space
    where it folds; encoded words separated by folding whitespace cannot.
    """

    def fold(self, *, policy: Policy) -> str:
        text = str(self)
        if text.isascii():
            return str(super().fold(policy=policy))
        encoded = Header(text, "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


class _Registry(HeaderRegistry):
    """A HeaderRegistry that builds each header class once, not once per header set."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().__getitem__(name)
        return built


def _make_policy() -> email_policy.EmailPolicy[EmailMessage]:
    registry = _Registry()
    registry.map_to_type("list-unsubscribe", _UriListHeader)
    registry.map_to_type("subject", _SubjectHeader)
    return email_policy.SMTP.clone(header_factory=registry, cte_type="7bit")


# SMTP line ends; 7-bit transfer encodings, so no server needs 8BITMIME.
POLICY = _make_policy()


# Unicode categories Cc (C0, DEL, C1), Zl, Zp and Cs (lone surrogates).
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BODY_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)


def _check_header_text(value: str, what: str) -> str:
    if _HEADER_UNSAFE.search(value):
        raise ComposeError(f"{what} contains a line break or control character")
    return value


def ascii_domain(domain: str) -> str:
    """Return a domain in lower-case ASCII (punycode), or raise ComposeError."""
    return _ascii_domain(domain.strip().rstrip(".").lower())


@lru_cache(maxsize=4096)
def _ascii_domain(text: str) -> str:
    _check_header_text(text, "the domain")
    if _ASCII_HOST.match(text) and "xn--" not in text:
        return text  # plain ASCII host names need no IDNA round trip
    try:
        encoded = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ComposeError(f"{text!r} is not a valid domain") from None
    if "." not in encoded:
        raise ComposeError(f"{text!r} is not a fully qualified domain")
    return encoded


def split_address(address: str) -> tuple[str, str]:
    """Return (local part, ASCII domain) of an address, or raise ComposeError."""
    text = _check_header_text(address.strip(), "the address")
    local, at, domain = text.rpartition("@")
    if not at or not local or not _LOCAL_PART.match(local) or ".." in local:
        raise ComposeError(f"{address!r} is not a plain email address")
    return local, ascii_domain(domain)


def new_message_id(domain: str) -> str:
    """Return a new, globally unique Message-ID under domain: ``<random@domain>``.

    128 random bits and nothing else: unlike ``email.utils.make_msgid`` it
    never reveals the host name, process id or time of the machine.
    """
    return f"<{secrets.token_hex(16)}@{ascii_domain(domain)}>"


def message_id_domain(sender_address: str) -> str:
    """Return the domain a mailbox's Message-IDs go under: its address's domain."""
    return split_address(sender_address)[1]


def check_message_id(message_id: str) -> str:
    """Return a Message-ID unchanged if it is ``<local@domain>``, else raise ComposeError."""
    if not _MESSAGE_ID.match(message_id):
        raise ComposeError(f"{message_id!r} is not a Message-ID like <id@domain>")
    return message_id


def reply_subject(first_subject: str) -> str:
    """Return "Re: " + the first subject, without doubling an existing "Re:"."""
    subject = _check_header_text(first_subject, "the subject").strip()
    return "Re: " + _RE_PREFIX.sub("", subject, count=1) if subject else "Re:"


@dataclass(frozen=True)
class OutgoingEmail:
    """Everything needed to build one touch's message; plain values only.

    ``subject`` is this touch's rendered subject; for a follow-up (``thread``
    not empty) pass the thread's first subject and the message says "Re: " +
    it. ``thread`` is the Message-IDs of the enrollment's touches already
    sent, oldest first.
    """

    message_id: str
    sender_address: str
    recipient_address: str
    subject: str
    text: str
    date: datetime
    unsubscribe_url: str
    sender_name: str | None = None
    recipient_name: str | None = None
    thread: Sequence[str] = field(default_factory=tuple)
    html: str | None = None
    unsubscribe_mailto: str | None = None
    reply_to: str | None = None


@lru_cache(maxsize=1024)  # the sender's is the same in every message of a pass
def _address(address: str, name: str | None) -> str:
    local, domain = split_address(address)
    display = _check_header_text((name or "").strip(), "the display name")
    if len(display) > 200:
        raise ComposeError("the display name is longer than 200 characters")
    return formataddr((display, f"{local}@{domain}"), charset="utf-8")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_header(date: datetime) -> str:
    """Return email.utils.format_datetime(date) of an aware datetime, without its timetuple.

    The same format ("Wed, 18 Nov 2026 15:00:00 +0000"); only the UTC offset's
    "%z" is skipped for the UTC the sender uses.
    """
    zone = "+0000" if date.tzinfo is UTC else date.strftime("%z")
    return (
        f"{_DAYS[date.weekday()]}, {date.day:02d} {_MONTHS[date.month - 1]} {date.year:04d} "
        f"{date.hour:02d}:{date.minute:02d}:{date.second:02d} {zone}"
    )


def _uri(uri: str, what: str) -> str:
    text = _check_header_text(uri.strip(), what)
    if not text.isascii() or any(ch in text for ch in " <>,\"'\\"):
        raise ComposeError(f"{what} must be an ASCII URI without spaces, <, > or commas")
    return text


def _folded(name: str, value: str) -> str:
    """Return an ASCII header folded before spaces so lines stay within 78 characters.

    Unfolding (removing each CRLF) gives back exactly the value.
    """
    line = f"{name}:"
    lines: list[str] = []
    for index, word in enumerate(value.split(" ")):
        piece = " " + word
        if index > 0 and len(line) + len(piece) > 78:
            lines.append(line)
            line = piece
        else:
            line += piece
    lines.append(line)
    return "\r\n".join(lines)


def _unstructured(name: str, value: str) -> str:
    if value.isascii():
        return _folded(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}"


def _text_part(content: str, subtype: str, *, multipart: bool = False) -> list[str]:
    """Return the MIME headers, blank line and body lines of one text part.

    In a multipart the line break before a boundary belongs to the boundary,
    so the part keeps an empty last line to keep its own final line break.
    """
    lines = content.split("\n")
    if content.isascii() and max(len(line) for line in lines) <= 900:
        cte, body = "7bit", lines
    else:
        encoded = quopri.encodestring(content.encode("utf-8")).decode("ascii")
        cte, body = "quoted-printable", encoded.split("\n")
    if body and body[-1] == "" and not multipart:
        body = body[:-1]
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        f"Content-Transfer-Encoding: {cte}",
        "",
        *body,
    ]


def compose_bytes(email: OutgoingEmail) -> bytes:
    """Return a touch's message as SMTP bytes: CRLF line ends, 7-bit, folded headers.

    The sender's hot path: written directly with the standard library's
    header and quoted-printable encoders rather than through EmailMessage,
    which costs about a millisecond a message. ``build_message`` parses this
    output, and the tests check both agree with the email package.
    """
    if email.date.tzinfo is None:
        raise ComposeError("the Date must be timezone-aware")
    message_id = check_message_id(email.message_id)
    thread = [check_message_id(mid) for mid in email.thread]
    if message_id in thread:
        raise ComposeError("a message cannot reply to itself")
    subject = (
        reply_subject(email.subject)
        if thread
        else _check_header_text(email.subject, "the subject").strip()
    )
    if not subject:
        raise ComposeError("the first touch of a thread needs a subject")
    if not email.unsubscribe_url.startswith(("https://", "http://")):
        raise ComposeError("the unsubscribe URL must be http(s)")
    unsubscribe = [f"<{_uri(email.unsubscribe_url, 'the unsubscribe URL')}>"]
    if email.unsubscribe_mailto:
        if not email.unsubscribe_mailto.startswith("mailto:"):
            raise ComposeError("the unsubscribe mailto must start with mailto:")
        unsubscribe.append(f"<{_uri(email.unsubscribe_mailto, 'the unsubscribe mailto')}>")
    text = _body_text(email.text)

    head = [
        f"Date: {date_header(email.date)}",
        f"Message-ID: {message_id}",
        _unstructured("From", _address(email.sender_address, email.sender_name)),
        _unstructured("To", _address(email.recipient_address, email.recipient_name)),
    ]
    if email.reply_to:
        head.append(_unstructured("Reply-To", _address(email.reply_to, None)))
    head.append(_unstructured("Subject", subject))
    if thread:
        head.append(f"In-Reply-To: {thread[-1]}")
        head.append(_folded("References", " ".join(thread)))
    head.append("List-Unsubscribe: " + ",\r\n ".join(unsubscribe))
    head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    head.append("MIME-Version: 1.0")
    if email.html is None:
        lines = head + _text_part(text, "plain")
    else:
        html = _body_text(email.html)
        # Derived from the Message-ID so a retried touch is byte-for-byte the same.
        boundary = "=_lg_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
        while f"--{boundary}" in text or f"--{boundary}" in html:
            boundary += "_"
        lines = [
            *head,
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            *_text_part(text, "plain", multipart=True),
            f"--{boundary}",
            *_text_part(html, "html", multipart=True),
            f"--{boundary}--",
        ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def build_message(email: OutgoingEmail) -> EmailMessage:
    """Return the EmailMessage of a touch (for previews and checks; send compose_bytes)."""
    message = email_parser.BytesParser(policy=POLICY).parsebytes(compose_bytes(email))
    assert isinstance(message, EmailMessage)
    return message


def _body_text(text: str) -> str:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BODY_UNSAFE.search(body):
        raise ComposeError("the text part contains control characters")
    return body if body.endswith("\n") else body + "\n"


def to_bytes(message: EmailMessage) -> bytes:
    """Return the message as SMTP wants it: CRLF line ends, 7-bit clean."""
    raw: Any = message.as_bytes(policy=POLICY)
    return bytes(raw)
