"""Building a touch's message: headers, threading, unsubscribe, injection safety."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from crm.mail.compose import (
    ComposeError,
    OutgoingEmail,
    ascii_domain,
    build_message,
    check_message_id,
    compose_bytes,
    message_id_domain,
    new_message_id,
    reply_subject,
    to_bytes,
)

WHEN = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
UNSUB = "https://crm.example-planner.com/u/WyJzYXJhaEBwbXRvb2xzcmV2aWV3LmNvbSIsMTJd.abc_DEF-123"


def first_touch(**changes: object) -> OutgoingEmail:
    base = OutgoingEmail(
        message_id="<a1b2c3@example-planner.com>",
        sender_address="alex@example-planner.com",
        sender_name="Alex Morgan",
        recipient_address="sarah@pmtoolsreview.com",
        recipient_name="Sarah Lee",
        subject='A resource for "The 12 Best Gantt Chart Templates"',
        text="Hi Sarah,\n\nA short note.\n\nThanks,\nAlex Morgan\n",
        date=WHEN,
        unsubscribe_url=UNSUB,
        unsubscribe_mailto="mailto:alex@example-planner.com?subject=unsubscribe",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def parsed(message: OutgoingEmail) -> email.message.EmailMessage:
    raw = to_bytes(build_message(message))
    result = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(result, email.message.EmailMessage)
    return result


def text_of(msg: email.message.EmailMessage) -> str:
    """Return the decoded text part with LF line ends (the parser keeps CRLF)."""
    return str(msg.get_content()).replace("\r\n", "\n")


def test_new_message_id_is_unique_under_the_domain_and_leaks_nothing() -> None:
    ids = {new_message_id("Example-Planner.com") for _ in range(2000)}
    assert len(ids) == 2000
    for mid in list(ids)[:50]:
        assert re.fullmatch(r"<[0-9a-f]{32}@example-planner\.com>", mid)
    import socket

    assert socket.gethostname().lower() not in "".join(ids)


def test_message_id_domain_is_the_mailbox_domain_in_ascii() -> None:
    assert message_id_domain("alex@Example-Planner.com") == "example-planner.com"
    assert message_id_domain("info@bücher.de") == "xn--bcher-kva.de"
    assert ascii_domain("xn--bcher-kva.de.") == "xn--bcher-kva.de"
    with pytest.raises(ComposeError):
        ascii_domain("localhost")


def test_first_touch_has_every_required_header() -> None:
    msg = parsed(first_touch())
    assert msg["Date"] == "Wed, 18 Nov 2026 15:00:00 +0000"
    assert msg["Message-ID"] == "<a1b2c3@example-planner.com>"
    assert msg["From"] == "Alex Morgan <alex@example-planner.com>"
    assert msg["To"] == "Sarah Lee <sarah@pmtoolsreview.com>"
    assert msg["Subject"] == 'A resource for "The 12 Best Gantt Chart Templates"'
    assert msg["List-Unsubscribe"] == (
        f"<{UNSUB}>, <mailto:alex@example-planner.com?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg.get_content_type() == "text/plain"
    assert text_of(msg) == "Hi Sarah,\n\nA short note.\n\nThanks,\nAlex Morgan\n"


def test_follow_up_threads_under_the_earlier_touches_with_re_subject() -> None:
    thread = ["<first@example-planner.com>", "<second@example-planner.com>"]
    msg = parsed(first_touch(message_id="<third@example-planner.com>", thread=thread))
    assert msg["Subject"] == 'Re: A resource for "The 12 Best Gantt Chart Templates"'
    assert msg["In-Reply-To"] == "<second@example-planner.com>"
    assert msg["References"] == "<first@example-planner.com> <second@example-planner.com>"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Hello", "Re: Hello"), ("Re: Hello", "Re: Hello"), ("RE:Hello", "Re: Hello"),
     ("  re :  Hello ", "Re: Hello"), ("Regarding rates", "Re: Regarding rates")],
)  # fmt: skip
def test_reply_subject_is_not_doubled(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_long_unsubscribe_url_is_never_encoded_or_broken() -> None:
    url = "https://crm.example-planner.com/u/" + "A" * 300
    raw = to_bytes(build_message(first_touch(unsubscribe_url=url)))
    assert f"List-Unsubscribe: <{url}>,\r\n <mailto:".encode() in raw
    assert b"=?utf-8?" not in raw.split(b"List-Unsubscribe:")[1].split(b"\r\n")[0]


def test_non_ascii_subject_names_and_body_round_trip_over_7bit() -> None:
    msg = first_touch(
        subject="Über die Seite „Gantt-Vorlagen“ – ein Vorschlag für Ihre Leser",
        sender_name="Zoë Brontë, SEO",
        recipient_name="Sarah Lée",
        recipient_address="sarah@bücher.de",
        text="Grüße aus Köln\n.\n..starts with dots\n",
    )
    raw = to_bytes(build_message(msg))
    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert back["Subject"] == msg.subject
    assert back["From"].addresses[0].display_name == "Zoë Brontë, SEO"
    assert back["To"].addresses[0].addr_spec == "sarah@xn--bcher-kva.de"
    assert text_of(back) == "Grüße aus Köln\n.\n..starts with dots\n"


def test_optional_html_part_makes_multipart_alternative() -> None:
    msg = parsed(first_touch(html="<p>Hi Sarah,</p>"))
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and "A short note." in plain.get_content()
    assert html is not None and "<p>Hi Sarah,</p>" in html.get_content()


def test_lines_end_with_crlf() -> None:
    raw = to_bytes(build_message(first_touch()))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: victim@example.org"},
        {"subject": "Hello\nBcc: victim@example.org"},
        {"subject": "Hello\x00"},
        {"sender_name": "Alex\r\nBcc: victim@example.org"},
        {"recipient_name": "Sarah\nX-Injected: yes"},
        {"recipient_address": "sarah@pmtoolsreview.com\r\nBcc: victim@example.org"},
        {"recipient_address": "sarah@pmtoolsreview.com, victim@example.org"},
        {"recipient_address": "Sarah <sarah@pmtoolsreview.com>"},
        {"sender_address": "not-an-address"},
        {"message_id": "<a@b.com>\r\nBcc: victim@example.org"},
        {"message_id": "a1b2c3@example-planner.com"},
        {"thread": ["<ok@example-planner.com>", "<bad@x.com>\r\nBcc: v@example.org"]},
        {"unsubscribe_url": "https://x.example/u/t>\r\nBcc: victim@example.org"},
        {"unsubscribe_url": "javascript:alert(1)"},
        {"unsubscribe_url": "https://x.example/u/a,b"},
        {"unsubscribe_mailto": "https://not-mailto.example"},
        {"reply_to": "x@y.com\nBcc: v@example.org"},
        {"text": "Hi\x1b[31m"},
    ],
)
def test_header_injection_and_bad_values_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ComposeError):
        build_message(first_touch(**changes))


def test_naive_date_and_empty_first_subject_are_refused() -> None:
    with pytest.raises(ComposeError, match="timezone-aware"):
        build_message(first_touch(date=datetime(2026, 11, 18, 15, 0)))
    with pytest.raises(ComposeError, match="subject"):
        build_message(first_touch(subject="  "))


def test_a_message_cannot_reply_to_itself() -> None:
    with pytest.raises(ComposeError):
        build_message(first_touch(thread=["<a1b2c3@example-planner.com>"]))


def test_check_message_id_accepts_our_ids() -> None:
    mid = new_message_id("example-planner.com")
    assert check_message_id(mid) == mid


ROUND_TRIP_CASES = {
    "first touch": {},
    "follow-up": {"thread": [f"<t{i}@example-planner.com>" for i in range(6)]},
    "non-ascii": {
        "subject": "Über die Seite „Gantt-Vorlagen“ – ein Vorschlag für Ihre Leser " * 2,
        "sender_name": "Zoë Brontë, SEO",
        "recipient_name": 'Sarah "Sal" Lée',
        "text": "Grüße\n" + "ä" * 300 + "\ntrailing space \n\ttab\n",
    },
    "html": {"html": "<p>Hi Sarah,</p>\n<p>" + "long line " * 50 + "</p>"},
    "long ascii subject": {
        "subject": "word " * 40 + "end",
        "reply_to": "replies@example-planner.com",
    },
    "no names": {"sender_name": None, "recipient_name": None},
}


@pytest.mark.parametrize("changes", ROUND_TRIP_CASES.values(), ids=ROUND_TRIP_CASES.keys())
def test_compose_bytes_is_what_the_email_package_reads_and_writes_back(
    changes: dict[str, object],
) -> None:
    touch = first_touch(**changes)
    raw = compose_bytes(touch)
    assert raw.isascii() and raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert to_bytes(build_message(touch)) == raw
    message = build_message(touch)
    assert not message.defects
    for part in message.walk():
        assert not part.defects
    assert message["Subject"] == (
        reply_subject(touch.subject) if touch.thread else touch.subject.strip()
    )
    expected_from = touch.sender_name or ""
    assert message["From"].addresses[0].display_name == expected_from
    assert message["To"].addresses[0].display_name == (touch.recipient_name or "")
    assert text_of(message.get_body(("plain",))) == touch.text  # type: ignore[arg-type]
    if touch.html is not None:
        html = message.get_body(("html",))
        assert text_of(html).rstrip("\n") == touch.html  # type: ignore[arg-type]


@pytest.mark.parametrize("changes", ROUND_TRIP_CASES.values(), ids=ROUND_TRIP_CASES.keys())
def test_header_lines_stay_within_78_characters_except_unbreakable_uris(
    changes: dict[str, object],
) -> None:
    head = compose_bytes(first_touch(**changes)).split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert len(line) <= 78 or line.startswith(b"List-Unsubscribe: <https://"), line
