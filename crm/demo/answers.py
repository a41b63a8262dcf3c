"""What the demo's made-up prospects do with our emails, and the messages they write back.

Pure: plain values in, message bytes out. Each live demo enrollment follows
one line of SCRIPT (by its id), so a handful of enrollments shows every kind
of answer the reply rules handle: a placed link, a positive, a negative and a
colleague's reply, an out-of-office with a return date, a real DSN hard
bounce, an unsubscribe request and silence (the sequence runs its course).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


class Act(enum.Enum):
    PLACED = "placed"  # a positive reply: the link is on their page already
    POSITIVE = "positive"
    NEGATIVE = "negative"
    COLLEAGUE = "colleague"  # someone else at the prospect answers
    OOO = "ooo"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    SILENT = "silent"


# (what the prospect does, after which step); SILENT never answers.
SCRIPT: tuple[tuple[Act, int], ...] = (
    (Act.PLACED, 1),
    (Act.OOO, 1),
    (Act.POSITIVE, 2),
    (Act.BOUNCE, 1),
    (Act.NEGATIVE, 1),
    (Act.COLLEAGUE, 2),
    (Act.UNSUBSCRIBE, 1),
    (Act.PLACED, 2),
    (Act.SILENT, 0),
    (Act.POSITIVE, 1),
    (Act.SILENT, 0),
    (Act.NEGATIVE, 3),
)


def act_of(enrollment_id: int) -> tuple[Act, int]:
    """Return what the prospect of an enrollment does, and after which step."""
    return SCRIPT[enrollment_id % len(SCRIPT)]


@dataclass(frozen=True)
class SentTouch:
    """The touch a prospect answers, as the prospect sees it."""

    message_id: str
    subject: str
    body: str
    to_address: str  # the prospect's contact
    from_address: str  # our mailbox
    first_name: str
    domain: str
    sent_at: datetime


def page_url(domain: str) -> str:
    """Return the demo page where a prospect puts our link."""
    return f"http://{domain}/resources/"


def page_html(domain: str, target_url: str, anchor: str) -> str:
    """Return a prospect's resources page, with our link among others."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Resources · {domain}</title></head><body><h1>Useful resources</h1><ul>"
        '<li><a href="https://en.wikipedia.org/wiki/Kanban_board">Kanban board</a></li>'
        f'<li><a href="{target_url}">{anchor}</a></li>'
        '<li><a href="https://www.atlassian.com/agile">Agile guide</a></li>'
        "</ul></body></html>"
    )


def _quoted(touch: SentTouch) -> str:
    when = touch.sent_at.strftime("%a, %d %b %Y at %H:%M")
    quoted = "\n".join("> " + line for line in touch.body.strip().splitlines())
    return f"\n\nOn {when}, {touch.from_address} wrote:\n{quoted}\n"


def _reply(touch: SentTouch, now: datetime, sender: str, text: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = touch.from_address
    subject = touch.subject if touch.subject.lower().startswith("re:") else f"Re: {touch.subject}"
    msg["Subject"] = headers.pop("subject", subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("sim", domain=touch.domain)
    msg["In-Reply-To"] = touch.message_id
    msg["References"] = touch.message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text + _quoted(touch))
    return msg.as_bytes()


def answer(act: Act, touch: SentTouch, now: datetime, anchor: str = "") -> bytes | None:
    """Return the message a prospect sends back for `act`, or None when it stays silent."""
    hello = "Hi,\n\n" + (f"{touch.first_name} here. " if touch.first_name else "")
    if act is Act.PLACED:
        text = (
            f"{hello}Thanks, that is a useful page. I have added it to our resources:\n"
            f"{page_url(touch.domain)} (as “{anchor}”).\n\nCheers"
        )
        return _reply(touch, now, touch.to_address, text)
    if act is Act.POSITIVE:
        text = f"{hello}Sure, happy to add it. Which anchor text would you like?\n\nBest"
        return _reply(touch, now, touch.to_address, text)
    if act is Act.NEGATIVE:
        text = f"{hello}Thanks, but we don't add links to commercial sites. Not a fit for us."
        return _reply(touch, now, touch.to_address, text)
    if act is Act.COLLEAGUE:
        text = (
            "Hi,\n\nMy colleague forwarded me your note: I look after our resources page. "
            "Could you send me the exact page you have in mind?\n\nJordan, editorial desk"
        )
        return _reply(touch, now, f"desk@{touch.domain}", text)
    if act is Act.OOO:
        back = (now + timedelta(days=3)).strftime("%d %B %Y")
        text = (
            f"I am out of the office until {back} with limited access to email. "
            "I will answer when I am back."
        )
        return _reply(
            touch, now, touch.to_address, text,
            subject=f"Out of office: {touch.subject}", Auto_Submitted="auto-replied",
        )  # fmt: skip
    if act is Act.UNSUBSCRIBE:
        text = "Please remove me from your list and do not email me again."
        return _reply(touch, now, touch.to_address, text)
    if act is Act.BOUNCE:
        return bounce(touch, now)
    return None


def bounce(touch: SentTouch, now: datetime) -> bytes:
    """Return a Postfix-style RFC 3464 delivery status notification: no such mailbox."""
    mx = f"mx.{touch.domain}"
    rcpt = touch.to_address
    boundary = "dsn-" + hashlib.sha1(f"{touch.message_id} {rcpt}".encode()).hexdigest()[:16]
    crlf = "\r\n"
    lines = [
        f"From: MAILER-DAEMON@{mx} (Mail Delivery System)",
        f"To: {touch.from_address}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {make_msgid('dsn', domain=mx)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is the mail system at host {mx}. Your message could not be delivered.",
        f"<{rcpt}>: host {mx} said: 550 5.1.1 User unknown",
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {mx}",
        "",
        f"Final-Recipient: rfc822; {rcpt}",
        f"Original-Recipient: rfc822; {rcpt}",
        "Action: failed",
        "Status: 5.1.1",
        f"Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: User unknown",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        f"From: {touch.from_address}",
        f"To: {rcpt}",
        f"Subject: {touch.subject}",
        f"Message-ID: {touch.message_id}",
        f"Date: {format_datetime(touch.sent_at)}",
        "",
        f"--{boundary}--",
        "",
    ]
    return crlf.join(lines).encode("utf-8")
