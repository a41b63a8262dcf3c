"""Real-shaped inbound messages for the trust rules (issue 10): forged and look-alike mail
beside its genuine counterparts, each built for a `World` (tests/replies/factories.py)."""

from __future__ import annotations

from tests.outreach.factories import OUR_ADDRESS, World
from tests.replies.factories import hard_bounce, reply

A, B = "pmtoolsreview.com", "ganttguide.org"
EDITOR_A = f"editor@{A}"


def _headers(sender: str, subject: str, message_id: str, extra: str = "") -> str:
    return (
        f"From: {sender}\r\nTo: Ana Lopez <{OUR_ADDRESS}>\r\nSubject: {subject}\r\n"
        f"Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nMessage-ID: {message_id}\r\n{extra}"
        "MIME-Version: 1.0\r\n"
    )


def _plain(sender: str, subject: str, body: str, *, message_id: str, extra: str = "") -> bytes:
    head = _headers(sender, subject, message_id, extra)
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def forged_x_failed_recipients(world: World) -> bytes:
    """Anyone can write the header real MTAs add to their bounces."""
    return _plain(
        "Mail Delivery System <notices@bulk-sender.example>", "Mail delivery failed",
        f"This message was created automatically by mail delivery software.\r\n\r\n"
        f"A message that you sent could not be delivered to one or more of its recipients."
        f"\r\n\r\n  {EDITOR_A}\r\n    550 5.1.1 User unknown",
        message_id="<forged-xfr@bulk-sender.example>",
        extra=f"X-Failed-Recipients: {EDITOR_A}\r\n",
    )  # fmt: skip


def dsn_report(sender: str, final_recipient: str, message_id: str, returned: str = "") -> bytes:
    boundary = "forged-dsn"
    head = _headers(sender, "Undelivered Mail Returned to Sender", message_id)
    parts = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.forger.example\r\n\r\n"
        f"Final-Recipient: rfc822; {final_recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    )
    if returned:
        parts += f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n\r\n"
    return (
        head + "Content-Type: multipart/report; report-type=delivery-status;"
        f' boundary="{boundary}"\r\n\r\n' + parts + f"--{boundary}--\r\n"
    ).encode()


def forged_dsn_bare_domain(world: World) -> bytes:
    return dsn_report("MAILER-DAEMON@mx.forger.example", A, "<forged-dsn@mx.forger.example>")


def forged_dsn_for_an_address_we_never_wrote_to(world: World) -> bytes:
    return dsn_report(
        "MAILER-DAEMON@mx.forger.example", f"ceo@{A}", "<forged-dsn2@mx.forger.example>"
    )


def forged_unsubscribe_from_a_stranger(world: World) -> bytes:
    return _plain(
        "Jo <jo@somewhere-else.net>",
        "unsubscribe",
        "Please remove me from your list.",
        message_id="<unsub@somewhere-else.net>",
    )


def phishing_quota_notice(world: World) -> bytes:
    return _plain(
        "Mail Administrator <admin@mail-security-center.example>", "Your mailbox is full",
        "Your mailbox is almost full and 4 incoming messages are on hold.\r\n"
        "Click here to release your messages: http://mail-security-center.example/release",
        message_id="<quota@mail-security-center.example>",
    )  # fmt: skip


def phishing_from_a_postmaster_lookalike(world: World) -> bytes:
    return _plain(
        "postmaster <postmaster@sample-site-mail.example>", "Delivery failed: 3 messages held",
        f"Delivery has failed for 3 messages sent to {OUR_ADDRESS}.\r\n"
        "Click here to release your messages.",
        message_id="<held@sample-site-mail.example>",
    )  # fmt: skip


def body_only_message_id(world: World) -> bytes:
    ours = world.touch(A).message_id
    return _plain(
        "Jo <jo@somewhere-else.net>", "Fwd: an email I got",
        f"Is this yours? It came with these headers:\r\n\r\nMessage-ID: {ours}\r\n"
        f"In-Reply-To: {ours}\r\nAuto-Submitted: auto-replied\r\n",
        message_id="<fwd@somewhere-else.net>",
    )  # fmt: skip


def genuine_dsn(world: World) -> bytes:
    return hard_bounce(world.touch(A), recipient=EDITOR_A, message_id="<dsn@mx.example>")


def genuine_dsn_naming_another_recipient(world: World) -> bytes:
    """Our returned headers, but the report claims someone else failed: only our address."""
    return hard_bounce(world.touch(A), recipient=f"editor@{B}", message_id="<dsn2@mx.example>")


def genuine_exim_text_bounce(world: World) -> bytes:
    return _plain(
        "Mail Delivery System <Mailer-Daemon@box.sharedhost.net>",
        "Mail delivery failed: returning message to sender",
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        f"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {EDITOR_A}\r\n    host mx.{A} [203.0.113.9]\r\n"
        "    SMTP error from remote mail server after RCPT TO:<editor@pmtoolsreview.com>:\r\n"
        "    550 5.1.1 User unknown",
        message_id="<exim@box.sharedhost.net>",
        extra=f"X-Failed-Recipients: {EDITOR_A}\r\nReturn-Path: <>\r\n",
    )  # fmt: skip


def genuine_unsubscribe(world: World) -> bytes:
    return reply(world.touch(A), sender=EDITOR_A, body="Please remove me from your list.",
                 message_id="<unsub@pmtoolsreview.com>")  # fmt: skip


def colleague_unsubscribe(world: World) -> bytes:
    return reply(None, sender=f"desk@{A}", body="Please stop emailing us.",
                 message_id="<desk@pmtoolsreview.com>")  # fmt: skip


def french_unsubscribe(world: World) -> bytes:
    """Issue 15: a polite French request, written above our quoted first email."""
    return reply(
        world.touch(A), sender=EDITOR_A, subject="RE: Your Gantt chart round-up",
        body="Bonjour,\r\n\r\nMerci de ne plus m'écrire.\r\n\r\nCordialement,\r\nSarah\r\n\r\n"
        "Le lun. 2 nov. 2026 à 10:00, Ana Lopez <ana@sample-site.example> a écrit :",
        message_id="<fr-unsub@pmtoolsreview.com>",
    )  # fmt: skip


def correspondent_says_mailbox_full(world: World) -> bytes:
    """Someone we wrote to may sound like a notice: it is still their reply, never dropped."""
    return reply(
        None, sender=EDITOR_A, subject="Gantt templates",
        body="My mailbox is full after the holidays, sorry. Yes, send me the link.",
        message_id="<full@pmtoolsreview.com>",
    )  # fmt: skip


def genuine_reply_from_the_editor(world: World) -> bytes:
    return reply(world.touch(A), sender=EDITOR_A, message_id="<sure@pmtoolsreview.com>",
                 body="Sure, which anchor text would you like?")  # fmt: skip
