"""Matching replies to touches: threads, senders, colleagues, bounces, our own copies;
and every labelled corpus message read the way the poller reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.mail.parse import BodyPart, InboundFacts, parse_message, parse_raw
from crm.replies.matching import InboundReading, match_message, read_inbound
from crm.replies.outcome import suggest_outcome
from tests.replies.fakes import CORPUS, FakeLookup, Label, corpus_labels, touch

MAILBOX = "emma@taskorbit.com"
SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
FIRST = touch("<t1@taskorbit.com>", "sarah@blog.example", SENT, number=1)
SECOND = touch("<t2@taskorbit.com>", "sarah@blog.example", datetime(2026, 11, 5, tzinfo=UTC),
               step=2, number=2)  # fmt: skip
OTHER = touch("<t3@taskorbit.com>", "gmailer@gmail.com", SENT, number=3)


def lookup() -> FakeLookup:
    return FakeLookup([FIRST, SECOND, OTHER])


def message(headers: str, body: str = "Sounds good!") -> InboundFacts:
    raw = "Subject: Re: Your guide\r\n" + headers + "\r\n\r\n"
    return parse_message(raw.encode(), BodyPart(body.encode()))


def test_in_reply_to_is_preferred_over_older_references() -> None:
    facts = message(
        "From: sarah@blog.example\r\nDate: Fri, 6 Nov 2026 10:00:00 +0000\r\n"
        "In-Reply-To: <t2@taskorbit.com>\r\nReferences: <t1@taskorbit.com> <t2@taskorbit.com>"
    )
    found = match_message(facts, lookup())
    assert found is not None and found.method == "in_reply_to"
    assert found.touch == SECOND


def test_any_reference_matches_when_in_reply_to_is_foreign() -> None:
    facts = message(
        "From: boss@blog.example\r\nIn-Reply-To: <internal@blog.example>\r\n"
        "References: <t1@taskorbit.com> <internal@blog.example>"
    )
    found = match_message(facts, lookup())
    assert found is not None and found.touch == FIRST and found.method == "references"


def test_ids_quoted_in_the_body_are_never_matched() -> None:
    facts = message(
        "From: stranger@elsewhere.example",
        "> Message-ID: <t1@taskorbit.com>\n> In-Reply-To: <t1@taskorbit.com>",
    )
    assert match_message(facts, lookup()) is None


def test_sender_fallback_takes_the_latest_touch_sent_before_the_reply() -> None:
    facts = message("From: Sarah <Sarah@Blog.example>\r\nDate: Wed, 4 Nov 2026 10:00:00 +0000")
    found = match_message(facts, lookup())
    assert found is not None and found.method == "sender"
    assert found.touch == FIRST  # the second touch was sent after this reply was written


def test_sender_fallback_needs_a_touch_sent_before_the_message() -> None:
    facts = message("From: sarah@blog.example\r\nDate: Sun, 1 Nov 2026 10:00:00 +0000")
    assert match_message(facts, lookup()) is None


def test_a_colleague_at_the_same_domain_is_matched() -> None:
    facts = message("From: Marc <marc@www.blog.example>\r\nDate: Fri, 6 Nov 2026 10:00:00 +0000")
    found = match_message(facts, lookup())
    assert found is not None and found.method == "domain"
    assert found.touch == SECOND
    assert "colleague" in found.detail


def test_free_mail_domains_are_never_matched_as_colleagues() -> None:
    facts = message("From: someone.else@gmail.com\r\nDate: Fri, 6 Nov 2026 10:00:00 +0000")
    assert match_message(facts, lookup()) is None


def test_our_own_sent_copy_is_recognised_by_sender() -> None:
    facts = message(f"From: Emma <{MAILBOX}>\r\nIn-Reply-To: <t1@taskorbit.com>")
    reading = read_inbound(facts, lookup(), mailbox_addresses=[MAILBOX.upper()], now=NOW)
    assert reading.own_copy and reading.match is None


def test_our_own_sent_copy_is_recognised_by_its_message_id() -> None:
    facts = message("From: relay@forwarder.example\r\nMessage-ID: <t1@taskorbit.com>")
    reading = read_inbound(facts, lookup(), mailbox_addresses=[MAILBOX], now=NOW)
    assert reading.own_copy


def test_bounce_is_matched_by_its_recipient_not_by_the_mail_server() -> None:
    facts = message(
        "From: MAILER-DAEMON@mx.blog.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "X-Failed-Recipients: gmailer@gmail.com",
        "550 5.1.1 <gmailer@gmail.com>: User unknown",
    )
    reading = read_inbound(facts, lookup(), mailbox_addresses=[MAILBOX], now=NOW)
    assert reading.classification.kind == "bounce_hard"
    assert reading.match is not None and reading.match.method == "bounce_recipient"
    assert reading.match.touch == OTHER


def test_bounce_for_an_address_we_never_wrote_to_is_unmatched() -> None:
    facts = message(
        "From: MAILER-DAEMON@mx.blog.example\r\nX-Failed-Recipients: who@blog.example",
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "  who@blog.example\n    550 5.1.1 unknown",
    )
    reading = read_inbound(facts, lookup(), mailbox_addresses=[MAILBOX], now=NOW)
    assert reading.classification.kind == "bounce_hard" and reading.match is None


def test_lookup_is_asked_once_for_all_message_ids() -> None:
    spy = lookup()
    facts = message(
        "From: sarah@blog.example\r\nMessage-ID: <r@blog.example>\r\n"
        "In-Reply-To: <t2@taskorbit.com>\r\nReferences: <t1@taskorbit.com> <t2@taskorbit.com>"
    )
    read_inbound(facts, spy, mailbox_addresses=[MAILBOX], now=NOW)
    assert [kind for kind, _ in spy.asked] == ["ids"]


# --- the labelled corpus ------------------------------------------------------------------

CORPUS_MAILBOX, LOOKUP, LABELS = corpus_labels()


def check_label(label: Label, facts: InboundFacts, reading: InboundReading) -> None:
    """Assert a reading against its label (shared with the IMAP corpus test)."""
    verdict = reading.classification
    assert reading.own_copy is label.own_copy
    assert verdict.kind == label.kind, verdict.evidence
    assert verdict.evidence, "every verdict explains itself"
    method = reading.match.method if reading.match else "none"
    assert method == label.match, reading.match
    if label.touch is not None:
        assert reading.match is not None
        assert reading.match.touch.message_id == label.touch
    if label.kind.startswith("bounce_"):
        assert verdict.bounce is not None
        assert verdict.bounce.recipient == label.bounce_recipient
        assert verdict.bounce.status == label.bounce_status
        assert verdict.bounce.hard is (label.kind == "bounce_hard")
    else:
        assert verdict.bounce is None
    assert verdict.return_date == label.return_date
    if label.outcome is not None:
        outcome, reason = suggest_outcome(facts.reply_text, facts.subject)
        assert outcome == label.outcome, reason


def test_every_corpus_file_is_labelled_and_every_label_has_a_file() -> None:
    files = {path.name for path in CORPUS.glob("*.eml")}
    assert files == {label.name for label in LABELS}


def test_the_corpus_covers_every_kind() -> None:
    kinds = {label.kind for label in LABELS}
    assert kinds == {"human_reply", "auto_reply", "ooo", "bounce_hard", "bounce_soft",
                     "unsubscribe_request", "unrelated"}  # fmt: skip


@pytest.mark.parametrize("label", LABELS, ids=[label.name for label in LABELS])
def test_corpus_message_is_read_as_labelled(label: Label) -> None:
    facts = parse_raw((CORPUS / label.name).read_bytes())
    reading = read_inbound(facts, LOOKUP, mailbox_addresses=[CORPUS_MAILBOX], now=NOW)
    check_label(label, facts, reading)
