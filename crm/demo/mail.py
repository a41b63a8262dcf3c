"""Reading the sandbox's mail for the demo's "Demo mail" pages: bounded, from files only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from pathlib import Path

from crm.demo.sandbox import ANSWERS_FOLDER, SENT_FOLDER

FOLDERS = {SENT_FOLDER: "sent by Linkgap (SMTP)", ANSWERS_FOLDER: "answered by prospects (IMAP)"}
HEADER_BYTES = 16 * 1024  # a listing reads no more of a message than this
MESSAGE_BYTES = 1024 * 1024  # a message page shows no more than this
_NAME = re.compile(r"^\d{20}-\d{3}\.eml$")


@dataclass(frozen=True)
class SandboxMessage:
    """One message the sandbox holds, as a listing shows it."""

    folder: str
    name: str
    sender: str
    to: str
    subject: str
    date: str
    message_id: str


def _text(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


def _summary(folder: str, path: Path, msg: Message) -> SandboxMessage:
    return SandboxMessage(
        folder=folder, name=path.name, sender=_text(msg.get("From")), to=_text(msg.get("To")),
        subject=_text(msg.get("Subject")), date=_text(msg.get("Date")),
        message_id=_text(msg.get("Message-ID")),
    )  # fmt: skip


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(limit)


def list_messages(sandbox: Path, *, offset: int, limit: int) -> tuple[list[SandboxMessage], int]:
    """Return one page of every message, newest first, and how many there are."""
    files = [
        (path.name, folder, path)
        for folder in FOLDERS
        for path in (sandbox / folder).glob("*.eml")
        if _NAME.match(path.name)
    ]
    files.sort(reverse=True)
    page = []
    for _name, folder, path in files[offset : offset + limit]:
        head = _read(path, HEADER_BYTES).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        page.append(_summary(folder, path, message_from_bytes(head, policy=compat32)))
    return page, len(files)


def read_message(sandbox: Path, folder: str, name: str) -> tuple[SandboxMessage, str] | None:
    """Return one message and its text (every text/plain part), or None when there is none."""
    if folder not in FOLDERS or not _NAME.match(name):
        return None
    path = sandbox / folder / name
    if not path.is_file():
        return None
    msg = message_from_bytes(_read(path, MESSAGE_BYTES), policy=compat32)
    texts = []
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "message/delivery-status",
                                       "text/rfc822-headers"):  # fmt: skip
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                texts.append(payload.decode(charset, errors="replace"))
            elif isinstance(part.get_payload(), list):
                texts.extend(str(p) for p in part.get_payload())
    return _summary(folder, path, msg), "\n\n".join(texts).strip()
