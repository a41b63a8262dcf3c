"""The IMAP edge: connect to a mailbox and read what is new in a folder, read-only.

`poll_folder` never downloads a whole message and never changes a flag: the
folder is SELECTed read-only (EXAMINE) and every body item is a BODY.PEEK of
the header fields in `HEADER_FIELDS` plus the first bytes of one text part
(and of the report parts of a bounce). The caller keeps a `Cursor` per
mailbox and folder, stores each returned message together with the cursor it
carries in one transaction, and de-duplicates by (mailbox, Message-ID) after
a rescan. Any network failure raises `ImapConnectionLost` before anything is
returned, so nothing is consumed and the next pass starts from the old cursor.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError
from imapclient.response_parser import parse_fetch_response

from crm.mail.parse import HEADER_FIELDS, BodyPart, InboundFacts, parse_message
from crm.mail.parts import PartChoice, PartInfo, choose_parts

Security = Literal["none", "starttls", "tls"]

RESCAN_DAYS = 14  # after a UIDVALIDITY change, re-read this many days and de-duplicate
FETCH_CHUNK = 500  # UIDs per FETCH command when the set is explicit


class ImapError(Exception):
    """An IMAP failure that retrying will not fix (bad login, missing folder)."""


class ImapConnectionLost(ImapError):
    """The connection failed or dropped; nothing was consumed, poll again later."""


@dataclass(frozen=True)
class ImapSettings:
    """How to reach one mailbox's IMAP server."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: Security = "tls"
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    ca_file: str | None = None  # trust this CA too (a private CA; the tests' own)


@dataclass(frozen=True)
class Cursor:
    """Where a folder was read up to: its UIDVALIDITY and the last UID stored."""

    uidvalidity: int | None = None
    last_uid: int = 0


@dataclass(frozen=True)
class FetchedMessage:
    """One new message: its UID, its facts, and the folder cursor once it is stored."""

    uid: int
    facts: InboundFacts
    cursor: Cursor
    internal_date: datetime | None = None


@dataclass(frozen=True)
class PollBatch:
    """The new messages of one folder in UID order, and the cursor after all of them."""

    folder: str
    messages: list[FetchedMessage]
    cursor: Cursor
    more: bool = False  # `limit` stopped the batch early: poll again


_NETWORK_ERRORS = (OSError, imaplib.IMAP4.abort, ssl.SSLError, EOFError)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn imaplib/socket failures into ImapConnectionLost or ImapError."""
    try:
        yield
    except LoginError as exc:
        raise ImapError(f"{what}: login refused ({_text(exc)})") from None
    except ssl.SSLCertVerificationError as exc:
        raise ImapError(f"{what}: certificate not trusted ({exc.verify_message})") from exc
    except _NETWORK_ERRORS as exc:
        raise ImapConnectionLost(f"{what}: connection lost ({_text(exc)})") from exc
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"{what}: {_text(exc)}") from exc


def _text(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return message.removeprefix("b'").removesuffix("'")


def connect(settings: ImapSettings) -> IMAPClient:
    """Open an authenticated connection (verified TLS unless security is "none")."""
    context = None
    if settings.security != "none":
        context = ssl.create_default_context(cafile=settings.ca_file)
    timeout = SocketTimeout(connect=settings.connect_timeout, read=settings.read_timeout)
    where = f"IMAP {settings.host}:{settings.port}"
    with _translated(where):
        client = IMAPClient(
            settings.host, settings.port, ssl=settings.security == "tls",
            ssl_context=context, timeout=timeout,
        )  # fmt: skip
        try:
            if settings.security == "starttls":
                client.starttls(context)
            client.login(settings.username, settings.password)
        except BaseException:
            _close(client)
            raise
    client.normalise_times = False  # aware datetimes from INTERNALDATE
    return client


def _close(client: IMAPClient) -> None:
    # Closing a broken connection may fail in many ways; it is gone either way.
    with suppress(Exception):
        client.shutdown()


def poll_folder(
    client: IMAPClient,
    folder: str,
    cursor: Cursor,
    *,
    now: datetime,
    limit: int | None = None,
    rescan_days: int = RESCAN_DAYS,
    since: datetime | None = None,
) -> PollBatch:
    """Read the messages of `folder` that are newer than `cursor`, in UID order.

    `since` bounds a first poll (a cursor without UIDVALIDITY): reading starts at
    the first message that arrived on or after that day instead of the oldest.
    On ImapConnectionLost the connection is closed: connect again next pass.
    """
    try:
        return _poll(
            client, folder, cursor, now=now, limit=limit, rescan_days=rescan_days, since=since
        )
    except ImapConnectionLost:
        _close(client)
        raise


def _poll(
    client: IMAPClient, folder: str, cursor: Cursor, *, now: datetime, limit: int | None,
    rescan_days: int, since: datetime | None,
) -> PollBatch:  # fmt: skip
    with _translated(f"IMAP folder {folder!r}"):
        info = client.select_folder(folder, readonly=True)
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None
        if cursor.uidvalidity is not None and cursor.uidvalidity != uidvalidity:
            return _rescan(client, folder, uidvalidity, uidnext, now - timedelta(days=rescan_days))
        last = cursor.last_uid if cursor.uidvalidity is not None else 0
        if cursor.uidvalidity is None and since is not None and int(info.get(b"EXISTS", 0)):
            recent = [int(u) for u in client.search(["SINCE", since.date()])]
            if not recent:  # nothing that recent: start after the newest message
                return PollBatch(folder, [], Cursor(uidvalidity, (uidnext or 1) - 1))
            last = min(recent) - 1
        if int(info.get(b"EXISTS", 0)) == 0 or (uidnext is not None and uidnext <= last + 1):
            return PollBatch(folder, [], Cursor(uidvalidity, last))
        end = "*" if limit is None else str(last + limit)
        first = _fetch_range(client, f"{last + 1}:{end}", _first_items())
        # "n:*" always returns the highest UID, even when it is <= n.
        uids = sorted(uid for uid in first if uid > last)
        messages = _complete(client, uidvalidity, uids, first)
        top = max(uids, default=last)
        more = False
        if limit is not None:
            bound = last + limit if uidnext is None else min(last + limit, uidnext - 1)
            top = max(top, bound)
            more = uidnext is not None and bound < uidnext - 1
        return PollBatch(folder, messages, Cursor(uidvalidity, top), more=more)


def _rescan(
    client: IMAPClient, folder: str, uidvalidity: int, uidnext: int | None, since: datetime
) -> PollBatch:
    uids = sorted(int(u) for u in client.search(["SINCE", since.date()]))
    first: dict[int, dict[bytes, Any]] = {}
    for chunk in _chunks(uids):
        first.update(client.fetch(chunk, _first_items()))
    messages = _complete(client, uidvalidity, [u for u in uids if u in first], first)
    top = max(max(uids, default=0), (uidnext - 1) if uidnext else 0)
    return PollBatch(folder, messages, Cursor(uidvalidity, top))


def _first_items() -> list[str]:
    fields = " ".join(name.upper() for name in HEADER_FIELDS)
    return ["UID", "BODYSTRUCTURE", "INTERNALDATE", f"BODY.PEEK[HEADER.FIELDS ({fields})]"]


def _fetch_range(client: IMAPClient, uid_range: str, items: Sequence[str]) -> dict[int, Any]:
    # IMAPClient.fetch() filters the replies through int(message_set), which rejects a
    # range such as "5:*", so the range form goes through the underlying imaplib.
    typ, data = client._imap.uid("FETCH", uid_range, "(" + " ".join(items) + ")")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH {uid_range} failed: {data!r}")
    return dict(parse_fetch_response(data, client.normalise_times, True))


def _chunks(uids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(uids), FETCH_CHUNK):
        yield list(uids[start : start + FETCH_CHUNK])


def _section_value(data: dict[bytes, Any], section: str) -> bytes | None:
    """Find a BODY[section] (or BODY[section]<0>) item in one message's FETCH data."""
    wanted = section.upper()
    for key, value in data.items():
        text = key.decode("ascii", "replace").upper() if isinstance(key, bytes) else str(key)
        match = re.match(r"BODY\[([^\]]*)\]", text)
        if match and match.group(1).split(" (")[0] == wanted.split(" (")[0]:
            return value if isinstance(value, bytes) else b""
    return None


def _complete(
    client: IMAPClient, uidvalidity: int, uids: list[int], first: dict[int, dict[bytes, Any]]
) -> list[FetchedMessage]:
    """Fetch each message's chosen part snippets, then build its facts."""
    choices = {uid: choose_parts(structure_to_parts(first[uid].get(b"BODYSTRUCTURE")))
               for uid in uids}  # fmt: skip
    wanted: dict[int, list[tuple[str, PartInfo, str]]] = {}
    for uid, choice in choices.items():
        items = []
        for role, part in (("text", choice.text), ("status", choice.delivery_status),
                           ("returned", choice.returned_headers)):  # fmt: skip
            if part is None:
                continue
            if part.content_type == "message/rfc822" or part.content_type == "message/global":
                items.append((role, part, f"{part.section}.HEADER.FIELDS (MESSAGE-ID)"))
            else:
                items.append((role, part, f"{part.section}"))
        wanted[uid] = items
    # One FETCH per distinct list of items, for all the messages that need it.
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for uid, items in wanted.items():
        spec = tuple(
            f"BODY.PEEK[{section}]"
            + ("" if "HEADER" in section else f"<0.{PartChoice.limit(part)}>")
            for _, part, section in items
        )
        if spec:
            groups[spec].append(uid)
    second: dict[int, dict[bytes, Any]] = defaultdict(dict)
    for spec, members in groups.items():
        for chunk in _chunks(members):
            for uid, data in client.fetch(chunk, list(spec)).items():
                second[int(uid)].update(data)

    messages = []
    for uid in uids:
        pieces: dict[str, BodyPart] = {}
        for role, part, section in wanted[uid]:
            data = _section_value(second.get(uid, {}), section) or b""
            pieces[role] = BodyPart(
                data=data, content_type=part.content_type, charset=part.charset,
                encoding=None if "HEADER" in section else part.encoding,
                truncated=(part.size or 0) > len(data),
            )  # fmt: skip
        internal = first[uid].get(b"INTERNALDATE")
        internal = _aware(internal) if isinstance(internal, datetime) else None
        facts = parse_message(
            _section_value(first[uid], "HEADER.FIELDS") or b"",
            pieces.get("text"),
            delivery_status=pieces.get("status"),
            returned_headers=pieces.get("returned"),
            fallback_date=internal,
        )
        messages.append(
            FetchedMessage(
                uid=uid, facts=facts, cursor=Cursor(uidvalidity, uid), internal_date=internal
            )
        )
    return messages


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.astimezone()  # imapclient gave local time
    return value.astimezone(UTC)


# --- BODYSTRUCTURE ---------------------------------------------------------------------


def _s(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, (tuple, list)):
        return {}
    items = list(value)
    return {_s(items[i]).lower(): _s(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def _disposition(fields: Sequence[Any], index: int) -> str:
    if len(fields) > index and isinstance(fields[index], (tuple, list)) and fields[index]:
        return _s(fields[index][0]).lower()
    return ""


def structure_to_parts(structure: Any, section: str = "") -> PartInfo:
    """Describe an imapclient BODYSTRUCTURE as PartInfo with IMAP section numbers."""
    try:
        return _structure(structure, section)
    except (IndexError, TypeError, ValueError, AttributeError):
        return PartInfo(section=section or "1", content_type="application/octet-stream")


def _structure(structure: Any, section: str) -> PartInfo:
    if structure is None:
        return PartInfo(section=section or "1", content_type="text/plain")
    if isinstance(structure[0], list):  # multipart: [parts], subtype, params, disposition
        prefix = f"{section}." if section else ""
        children = [_structure(child, f"{prefix}{i}") for i, child in enumerate(structure[0], 1)]
        return PartInfo(
            section=section, content_type=f"multipart/{_s(structure[1]).lower()}",
            attachment=_disposition(structure, 3) == "attachment", children=children,
        )  # fmt: skip
    content_type = f"{_s(structure[0]).lower()}/{_s(structure[1]).lower()}"
    # Extension fields sit after the type-specific ones: text has "lines",
    # message/rfc822 has envelope, body and lines (RFC 3501 7.4.2).
    if content_type.startswith("text/"):
        disposition_at = 9
    elif content_type in ("message/rfc822", "message/global"):
        disposition_at = 11
    else:
        disposition_at = 8
    size = structure[6] if len(structure) > 6 and isinstance(structure[6], int) else None
    return PartInfo(
        section=section or "1", content_type=content_type,
        charset=_params(structure[2]).get("charset"),
        encoding=_s(structure[5]).lower() or None,
        attachment=_disposition(structure, disposition_at) == "attachment", size=size,
    )  # fmt: skip
