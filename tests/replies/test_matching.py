"""Matching replies to touches, the effects of each kind, and the suggested outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.mail.classify import BounceInfo, Classification
from crm.mail.parse import BodyPart, InboundFacts, parse_message
from crm.outreach.replies import (
    Effects,
    Match,
    decide_effects,
    match_message,
    read_inbound,
    suggest_outcome,
)
from tests.mail.fakes import FakeLookup, touch

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
        "550 5.1.1 unknown",
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


# --- effects -------------------------------------------------------------------------------

MATCH = Match(FIRST, "in_reply_to", "In-Reply-To names our message <t1@taskorbit.com>")


def verdict(kind: str, **extra: object) -> Classification:
    return Classification(kind, ["test"], **extra)  # type: ignore[arg-type]


def effects(kind: str, match: Match | None = MATCH, **extra: object) -> Effects:
    return decide_effects(
        verdict(kind, **extra), match, sender="sarah@blog.example",
        stop_other_enrollments=True, next_touch_due=datetime(2026, 11, 9, 14, 30, tzinfo=UTC),
        now=NOW,
    )  # fmt: skip


def test_human_reply_stops_this_and_the_prospects_other_sequences() -> None:
    result = effects("human_reply")
    assert result.stop_enrollment and result.stop_reason == "replied"
    assert result.stop_other_enrollments and result.prospect_status == "replied"
    assert result.notify_specialist


def test_other_sequences_keep_going_when_the_campaign_says_so() -> None:
    result = decide_effects(verdict("human_reply"), MATCH, sender="s@x.example",
                            stop_other_enrollments=False, next_touch_due=None, now=NOW)  # fmt: skip
    assert result.stop_enrollment and not result.stop_other_enrollments


def test_hard_bounce_stops_suppresses_the_recipient_and_marks_the_contact() -> None:
    result = decide_effects(
        verdict("bounce_hard", bounce=BounceInfo("gone@blog.example", "5.1.1", hard=True)),
        MATCH, sender="mailer-daemon@mx.example", stop_other_enrollments=True,
        next_touch_due=None, now=NOW,
    )  # fmt: skip
    assert result.stop_enrollment and result.stop_reason == "bounced"
    assert result.suppress == "gone@blog.example" and result.mark_contact == "bounced"
    assert not result.stop_other_enrollments


def test_soft_bounce_only_counts() -> None:
    result = effects("bounce_soft", bounce=BounceInfo("x@blog.example", "4.2.2", hard=False))
    assert result.count_soft_bounce and not result.stop_enrollment
    assert result.suppress is None


def test_unsubscribe_suppresses_the_sender_and_stops() -> None:
    result = effects("unsubscribe_request")
    assert result.suppress == "sarah@blog.example"
    assert result.stop_enrollment and result.stop_reason == "unsubscribed"


def test_unmatched_unsubscribe_is_still_suppressed_and_waits_in_triage() -> None:
    result = effects("unsubscribe_request", match=None)
    assert result.suppress == "sarah@blog.example" and result.triage
    assert not result.stop_enrollment


def test_out_of_office_moves_the_next_touch_to_the_working_day_after_the_return() -> None:
    result = effects("ooo", return_date=date(2026, 12, 4))  # a Friday
    moved = result.reschedule_next_touch_to
    assert moved == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # Monday, same time of day


def test_out_of_office_never_moves_a_touch_earlier_or_without_a_date() -> None:
    assert effects("ooo", return_date=date(2026, 11, 3)).reschedule_next_touch_to is None
    assert effects("ooo").reschedule_next_touch_to is None


@pytest.mark.parametrize("kind", ["auto_reply", "unrelated"])
def test_auto_replies_change_nothing(kind: str) -> None:
    result = effects(kind)
    assert not result.stop_enrollment and result.suppress is None
    assert result.reasons


def test_anything_unmatched_waits_in_triage() -> None:
    assert effects("human_reply", match=None).triage
    assert not effects("human_reply").triage


# --- suggested outcome ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Sure, happy to add it!", "positive"),
        ("Done - the link is live.", "positive"),
        ("I've added your guide to the post.", "positive"),
        ("Not interested, thanks.", "negative"),
        ("Unfortunately we don't accept link insertions.", "negative"),
        ("What's your budget? Our rate is $200 per link.", "neutral"),
        ("Let me check with my editor.", "neutral"),
        ("Hi Emma, who are you?", "neutral"),
        ("Gerne, schicken Sie mir den Link.", "positive"),
        ("Kein Interesse.", "negative"),
        ("Oliver forwarded your note. Happy to swap the link.", "positive"),
        ("Happy to add it for $50.", "neutral"),
    ],
)
def test_suggested_outcome_says_why(text: str, outcome: str) -> None:
    suggested, reason = suggest_outcome(text, "Re: Your guide")
    assert suggested == outcome
    assert reason
