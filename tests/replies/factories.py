"""Factories of the reply tests: real-shaped messages answering a World's touches
(tests/outreach/factories.py builds the World), the poller, and delivering without IMAP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select

from crm.extensions import db
from crm.mail.imap import Cursor, FetchedMessage
from crm.mail.parse import parse_raw
from crm.models import (
    InboundMessage,
    Mailbox,
    Touch,
    utcnow,
)
from crm.replies.poll_pass import PollSettings, run_poll_pass
from crm.replies.receive import DbTouchLookup, our_addresses, receive_messages
from tests.outreach.factories import OUR_ADDRESS


def poll(now: datetime | None = None, **changes: Any) -> dict[str, int]:
    """One pass of the real poller against the real Dovecot."""
    settings = PollSettings(connect_timeout=5, read_timeout=10, **changes)
    counts = run_poll_pass(now, settings=settings)
    db.session.expire_all()
    return counts


def inbound(kind: str | None = None) -> list[InboundMessage]:
    stmt = select(InboundMessage).order_by(InboundMessage.id)
    if kind is not None:
        stmt = stmt.where(InboundMessage.kind == kind)
    return list(db.session.scalars(stmt))


# --- messages ---------------------------------------------------------------------------


def _date(when: datetime | None) -> str:
    return format_datetime(when or datetime.now(UTC))


def reply(
    touch: Touch | None,
    *,
    sender: str,
    body: str = "Thanks Ana, happy to add your template to the list.",
    subject: str = "Re: Your Gantt chart round-up",
    message_id: str,
    headers: str = "",
    when: datetime | None = None,
) -> bytes:
    """A plain reply; with `touch`, threaded under it (In-Reply-To and References)."""
    thread = ""
    if touch is not None:
        thread = f"In-Reply-To: {touch.message_id}\r\nReferences: {touch.message_id}\r\n"
    return (
        f"From: Sarah Editor <{sender}>\r\nTo: Ana Lopez <{OUR_ADDRESS}>\r\n"
        f"Subject: {subject}\r\nDate: {_date(when)}\r\nMessage-ID: {message_id}\r\n"
        f"{thread}{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n\r\nOn Mon, Ana Lopez wrote:\r\n> Hi Sarah, a quick question\r\n"
    ).encode()


def out_of_office(touch: Touch, *, sender: str, back: date, message_id: str) -> bytes:
    return reply(
        touch,
        sender=sender,
        subject="Automatic reply: Your Gantt chart round-up",
        body=f"I am out of the office until {back:%B} {back.day}, {back.year} with no access "
        "to email. I will reply when I am back.",
        message_id=message_id,
        headers="Auto-Submitted: auto-replied\r\n",
    )


def hard_bounce(touch: Touch, *, recipient: str, message_id: str) -> bytes:
    """A Postfix-style DSN for `recipient`, returning the headers of `touch`."""
    boundary = "dsn-boundary-1"
    return (
        f"From: MAILER-DAEMON@mx.sample-site.example (Mail Delivery System)\r\n"
        f"To: {OUR_ADDRESS}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {_date(None)}\r\nMessage-ID: {message_id}\r\nAuto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"<{recipient}>: host mx.example.net said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.sample-site.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822; {recipient}\r\n"
        f"Action: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Ana Lopez <{OUR_ADDRESS}>\r\nTo: {recipient}\r\n"
        f"Subject: Your Gantt chart round-up\r\nMessage-ID: {touch.message_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def deliver(mailbox: Mailbox, raw: bytes, *, uid: int = 1) -> InboundMessage | None:
    """Store one message as the poller would have fetched it (no IMAP): for web tests."""
    now = utcnow()
    item = FetchedMessage(uid=uid, facts=parse_raw(raw), cursor=Cursor(1, uid), internal_date=now)
    stored = receive_messages(
        mailbox.id, "INBOX", [item], lookup=DbTouchLookup(), ours=our_addresses(), now=now
    )
    db.session.commit()
    return stored[0] if stored else None
