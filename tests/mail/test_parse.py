"""Facts of inbound messages: headers, bounded snippets, charsets, DSN fields, robustness."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm.mail.parse import (
    SNIPPET_CHARS,
    BodyPart,
    decode_part,
    message_ids,
    parse_delivery_status,
    parse_message,
    parse_raw,
)
from crm.mail.parts import PartInfo, choose_parts
from crm.mail.snippet import html_to_text, reply_part


def test_subject_and_sender_name_are_decoded_from_encoded_words() -> None:
    facts = parse_message(
        b"From: =?ISO-8859-1?Q?J=FCrgen_Ha=DF?= <Juergen@Example.DE>\r\n"
        b"Subject: =?utf-8?B?UmU6IMOcYmVyIElocmVuIEFydGlrZWw=?=\r\n\r\n"
    )
    assert facts.from_name == "Jürgen Haß"
    assert facts.from_address == "juergen@example.de"
    assert facts.subject == "Re: Über Ihren Artikel"


def test_thread_ids_put_in_reply_to_first_then_references_newest_first() -> None:
    facts = parse_message(
        b"In-Reply-To: <c@us.example>\r\n"
        b"References: <a@us.example>\r\n <b@us.example> <c@us.example>\r\n\r\n"
    )
    assert facts.in_reply_to == "<c@us.example>"
    assert facts.references == ["<a@us.example>", "<b@us.example>", "<c@us.example>"]
    assert facts.thread_ids == ["<c@us.example>", "<b@us.example>", "<a@us.example>"]


def test_extra_in_reply_to_ids_are_kept_with_the_references() -> None:
    facts = parse_message(b"In-Reply-To: <one@x.example> <two@x.example>\r\n\r\n")
    assert facts.in_reply_to == "<one@x.example>"
    assert "<two@x.example>" in facts.thread_ids


def test_message_ids_without_brackets_are_still_read() -> None:
    assert message_ids("abc@mailer.example") == ["<abc@mailer.example>"]
    assert message_ids("garbage with spaces") == []


def test_date_becomes_aware_utc_and_missing_date_falls_back() -> None:
    facts = parse_message(b"Date: Tue, 3 Nov 2026 11:12:18 +0100\r\n\r\n")
    assert facts.date == datetime(2026, 11, 3, 10, 12, 18, tzinfo=UTC)
    arrival = datetime(2026, 11, 4, tzinfo=UTC)
    broken = parse_message(b"Date: sometime soon\r\n\r\n", fallback_date=arrival)
    assert broken.date == arrival


def test_addresses_are_lower_case_lists() -> None:
    facts = parse_message(b"To: A <A@X.example>, b@y.example\r\nCc: C <c@Z.example>\r\n\r\n")
    assert facts.to == ["a@x.example", "b@y.example"]
    assert facts.cc == ["c@z.example"]


def test_truncated_base64_part_decodes_what_arrived() -> None:
    text = "Grüße aus Köln, " * 50
    encoded = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    part = BodyPart(encoded[:101], charset="utf-8", encoding="base64", truncated=True)
    decoded = decode_part(part)
    assert decoded and text.startswith(decoded)


def test_truncated_quoted_printable_drops_a_cut_escape() -> None:
    encoded = quopri.encodestring("déjà vu".encode("latin-1"))
    cut = encoded[: encoded.index(b"=E0") + 2]  # ends in "=E"
    decoded = decode_part(
        BodyPart(cut, charset="iso-8859-1", encoding="quoted-printable", truncated=True)
    )
    assert decoded == "déj"


def test_iso_8859_1_labelled_text_is_read_as_windows_1252() -> None:
    raw = "“Quoted” – résumé".encode("cp1252")
    assert decode_part(BodyPart(raw, charset="iso-8859-1")) == "“Quoted” – résumé"


def test_unlabelled_8bit_text_is_utf8_or_else_windows_1252() -> None:
    assert decode_part(BodyPart("naïve".encode())) == "naïve"
    assert decode_part(BodyPart("naïve".encode("cp1252"))) == "naïve"


def test_unknown_charset_does_not_fail() -> None:
    assert decode_part(BodyPart(b"plain words", charset="x-klingon")) == "plain words"


def test_html_becomes_text_with_quotes_marked() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Sure, &amp; thanks!</p>"
        "<div class='gmail_quote'>On Mon, Emma wrote:<blockquote>Hi there<br>"
        "unsubscribe</blockquote></div></body></html>"
    )
    text = html_to_text(html)
    assert "color" not in text
    assert text.splitlines()[0] == "Sure, & thanks!"
    assert "> Hi there" in text and "> unsubscribe" in text
    assert reply_part(text) == "Sure, & thanks!"


def test_reply_part_cuts_quoted_history_in_several_clients_and_languages() -> None:
    cases = [
        "Yes please.\n\nOn Mon, Nov 2, 2026 at 10:00 AM Emma <e@x.example> wrote:\n> hi",
        "Yes please.\n\nFrom: Emma <e@x.example>\nSent: Monday\nTo: me\nSubject: hi",
        "Yes please.\n\n-----Original Message-----\nFrom: Emma",
        "Yes please.\n\nAm 02.11.2026 um 10:45 schrieb Emma Clarke:\n> Hallo",
        "Yes please.\n\nVon: Emma\nGesendet: Montag\nBetreff: hi",
        "Yes please.\n\nLe lun. 2 nov. 2026 à 13:10, Emma <e@x.example> a écrit :\n> Bonjour",
        "Yes please.\n\nEl lun, 2 nov 2026 a las 10:00, Emma escribió:\n> Hola",
        "Yes please.\n\n________________________________\nFrom: Emma",
    ]
    for text in cases:
        assert reply_part(text) == "Yes please.", text


def test_reply_below_the_quote_is_kept() -> None:
    text = "On Mon, Emma <e@x.example> wrote:\n> Would you add it?\n\nDone, it is live."
    assert reply_part(text) == "Done, it is live."


def test_delivery_status_takes_the_failed_recipient() -> None:
    dsn = parse_delivery_status(
        "Reporting-MTA: dns; mx.example\n\n"
        "Final-Recipient: rfc822; ok@a.example\nAction: delivered\nStatus: 2.0.0\n\n"
        "Final-Recipient: rfc822; Gone@B.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user\n  unknown\n"
    )
    assert dsn is not None
    assert dsn.final_recipient == "gone@b.example"
    assert (dsn.action, dsn.status) == ("failed", "5.1.1")
    assert dsn.diagnostic_code == "550 5.1.1 user unknown"
    assert dsn.reporting_mta == "mx.example"


def test_choose_parts_prefers_plain_text_and_skips_attachments_and_attached_messages() -> None:
    tree = PartInfo(
        "",
        "multipart/mixed",
        children=[
            PartInfo(
                "1",
                "multipart/alternative",
                children=[PartInfo("1.1", "text/html"), PartInfo("1.2", "text/plain")],
            ),
            PartInfo("2", "text/plain", attachment=True),
            PartInfo("3", "message/rfc822"),
        ],
    )
    choice = choose_parts(tree)
    assert choice.text is not None and choice.text.section == "1.2"
    assert choice.returned_headers is not None and choice.returned_headers.section == "3"


def test_snippet_is_bounded() -> None:
    raw = b"Subject: long\r\nContent-Type: text/plain\r\n\r\n" + b"word " * 20000
    facts = parse_raw(raw)
    assert 0 < len(facts.snippet) <= SNIPPET_CHARS


def test_message_without_message_id_gets_a_stable_dedupe_key() -> None:
    raw = b"From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n"
    assert parse_raw(raw).dedupe_key == parse_raw(raw).dedupe_key
    assert parse_raw(raw).dedupe_key.endswith("@no-message-id.invalid>")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_raw_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parse_raw(raw)


_HEADER_LINES = st.lists(
    st.sampled_from(
        [
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
            b"Content-Type: text/plain; charset=x-unknown",
            b"Content-Transfer-Encoding: base64",
            b"Subject: =?utf-8?b?!!!?=",
            b"From: <<<@@>>",
            b"Date: 99 Foo 99999 99:99:99",
            b"References: <a@b> <<c@d>",
            b"--b",
            b"--b--",
            b"",
            b"\xff\xfe garbage",
            b"Final-Recipient: rfc822;",
            b"Content-Type: message/delivery-status",
        ]
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(_HEADER_LINES)
@example(
    [
        b"Content-Type: message/delivery-status",
        b"",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
        b"\xff\xfe garbage",
    ]
)
def test_parse_raw_never_raises_on_broken_mime(lines: list[bytes]) -> None:
    parse_raw(b"\r\n".join(lines))


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=1500),
    st.binary(max_size=1500),
    st.sampled_from([None, "utf-8", "iso-8859-1", "x-bogus", "utf-16"]),
    st.sampled_from([None, "base64", "quoted-printable", "8bit", "x-uuencode"]),
    st.sampled_from(["text/plain", "text/html"]),
)
def test_parse_message_never_raises_on_arbitrary_pieces(
    header: bytes, body: bytes, charset: str | None, encoding: str | None, kind: str
) -> None:
    part = BodyPart(body, content_type=kind, charset=charset, encoding=encoding, truncated=True)
    parse_message(header, part, delivery_status=part, returned_headers=part)
