"""Which MIME parts of an inbound message to read, and how many bytes of each.

The same choice is made from IMAP's BODYSTRUCTURE (crm.mail.imap) and from a
parsed whole message (crm.mail.parse.parse_raw), so both read the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator, Generator
from email.message import Message
from email.policy import compat32
from io import BytesIO, StringIO

TEXT_PART_BYTES = 8192  # first bytes fetched of a text/plain part
HTML_PART_BYTES = 32768  # HTML carries styles and markup: allow more for the same text
REPORT_PART_BYTES = 4096  # delivery-status and returned-headers parts


@dataclass
class PartInfo:
    """One node of a MIME tree, as BODYSTRUCTURE or the email package describes it."""

    section: str
    content_type: str
    charset: str | None = None
    encoding: str | None = None
    attachment: bool = False
    children: list[PartInfo] = field(default_factory=list)
    size: int | None = None  # encoded octets, when BODYSTRUCTURE says


@dataclass(frozen=True)
class PartChoice:
    """The parts worth reading: one text part and, for reports, the status and returned headers."""

    text: PartInfo | None = None
    delivery_status: PartInfo | None = None
    returned_headers: PartInfo | None = None

    @staticmethod
    def limit(part: PartInfo) -> int:
        """Return how many bytes of the part to read."""
        if part.content_type == "text/html":
            return HTML_PART_BYTES
        if part.content_type == "text/plain":
            return TEXT_PART_BYTES
        return REPORT_PART_BYTES


_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global",
                   "message/global-headers")  # fmt: skip


def choose_parts(root: PartInfo) -> PartChoice:
    """Pick the text to read (plain over HTML, never inside attached messages) and report parts."""
    plain: PartInfo | None = None
    html: PartInfo | None = None
    status: PartInfo | None = None
    returned: PartInfo | None = None

    def walk(node: PartInfo) -> None:
        nonlocal plain, html, status, returned
        if node.content_type in _STATUS_TYPES:
            status = status or node
            return
        if node.content_type in _RETURNED_TYPES:
            returned = returned or node
            return  # the quoted original is not this message's text
        if node.children:
            for child in node.children:
                walk(child)
            return
        if node.attachment:
            return
        if node.content_type == "text/plain" and plain is None:
            plain = node
        elif node.content_type == "text/html" and html is None:
            html = node

    walk(root)
    return PartChoice(text=plain or html, delivery_status=status, returned_headers=returned)


def tree_of(msg: Message, section: str = "") -> PartInfo:
    """Describe a parsed message's MIME tree with IMAP section numbers."""
    disposition = (msg.get("Content-Disposition") or "").split(";")[0].strip().lower()
    node = PartInfo(
        section=section,
        content_type=msg.get_content_type().lower(),
        charset=msg.get_content_charset(),
        encoding=(msg.get("Content-Transfer-Encoding") or "").strip().lower() or None,
        attachment=disposition == "attachment",
    )
    if msg.is_multipart() and node.content_type.startswith("multipart/"):
        payload = msg.get_payload()
        if isinstance(payload, list):
            prefix = f"{section}." if section else ""
            node.children = [tree_of(child, f"{prefix}{i}") for i, child in enumerate(payload, 1)]
    return node


def find_part(msg: Message, section: str) -> Message | None:
    """Return the part at an IMAP section number (\"2.1\"), or None."""
    current = msg
    for index in filter(None, section.split(".")):
        payload = current.get_payload()
        if not isinstance(payload, list) or int(index) > len(payload):
            return None
        child = payload[int(index) - 1]
        if not isinstance(child, Message):
            return None
        current = child
    return current


def _as_bytes(msg: Message) -> bytes:
    out = BytesIO()
    try:
        # No ">From " mangling: we want the bytes as they were received.
        BytesGenerator(out, mangle_from_=False, policy=compat32).flatten(msg)
    except UnicodeEncodeError:
        # Broken MIME the parser already turned into non-ASCII text (a stray
        # \xff\xfe under message/delivery-status): write it as text, keep its
        # undecodable bytes as they were and the rest as UTF-8.
        text = StringIO()
        Generator(text, mangle_from_=False, policy=compat32).flatten(msg)
        return text.getvalue().encode("utf-8", "surrogateescape")
    return out.getvalue()


def raw_payload(msg: Message) -> bytes:
    """Return a part's body as it is on the wire (still transfer-encoded)."""
    payload = msg.get_payload()
    if isinstance(payload, list):
        # message/* parts: the email package parsed them; serialise them back.
        return b"\n".join(_as_bytes(p) for p in payload if isinstance(p, Message))
    # get_payload() would decode 8-bit text with its charset; the generator keeps the bytes.
    blob = _as_bytes(msg)
    end = re.search(rb"\r?\n\r?\n", blob)
    return blob[end.end() :] if end else b""
