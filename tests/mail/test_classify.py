"""Classification rules: order, edge cases and the evidence people read."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from crm.mail.classify import classify
from crm.mail.parse import BodyPart, DeliveryStatus, InboundFacts, parse_message

NOW = datetime(2026, 11, 6, tzinfo=UTC)


def facts(headers: str, body: str = "", **changes: object) -> InboundFacts:
    header = ("Date: Tue, 3 Nov 2026 10:00:00 +0000\r\n" + headers).encode() + b"\r\n\r\n"
    parsed = parse_message(header, BodyPart(body.encode()) if body else None)
    return parsed if not changes else _replace(parsed, **changes)


def _replace(parsed: InboundFacts, **changes: object) -> InboundFacts:
    return dataclasses.replace(parsed, **changes)  # type: ignore[arg-type]


def test_auto_submitted_header_is_shown_as_evidence() -> None:
    verdict = classify(facts("Auto-Submitted: auto-replied\r\nSubject: Re: hi", "Thanks!"))
    assert verdict.kind == "auto_reply"
    assert "Auto-Submitted: auto-replied" in verdict.evidence


def test_auto_submitted_no_is_not_an_auto_reply() -> None:
    verdict = classify(
        facts("Auto-Submitted: no\r\nSubject: Re: hi", "Sure, go ahead."), references_us=True
    )
    assert verdict.kind == "human_reply"


def test_exchange_suppress_header_alone_is_not_an_auto_reply() -> None:
    verdict = classify(
        facts("X-Auto-Response-Suppress: All\r\nSubject: RE: hi", "Happy to help."),
        references_us=True,
    )
    assert verdict.kind == "human_reply"


def test_exchange_suppress_header_with_an_auto_subject_is_an_auto_reply() -> None:
    verdict = classify(
        facts("X-Auto-Response-Suppress: All\r\nSubject: Automatic reply: hi", "We got it.")
    )
    assert verdict.kind == "auto_reply"
    assert "X-Auto-Response-Suppress: All" in verdict.evidence


def test_out_of_office_is_recognised_from_the_subject_with_its_return_date() -> None:
    verdict = classify(facts("Subject: Out of Office", "Back on 9 November."))
    assert verdict.kind == "ooo"
    assert 'subject says "Out of Office"' in verdict.evidence
    assert verdict.return_date == date(2026, 11, 9)
    assert 'return date 2026-11-09 ("back on 9 november")' in verdict.evidence


def test_a_human_reply_that_mentions_being_away_is_still_a_human_reply() -> None:
    body = (
        "Thanks Emma, this looks great and I would like to add it. I'm away next week, "
        "so I will do it when I'm back in the office on the 16th. " * 4
    )
    verdict = classify(facts("Subject: Re: Your guide", body), references_us=True)
    assert verdict.kind == "human_reply"


def test_out_of_office_return_date_in_the_past_is_not_used() -> None:
    verdict = classify(facts("Auto-Submitted: auto-replied\r\nSubject: Out of office",
                             "I am out of the office until 1 November."))  # fmt: skip
    assert verdict.kind == "ooo" and verdict.return_date is None


def test_newsletter_is_unrelated_unless_it_answers_us() -> None:
    headers = "List-Id: <news.example.com>\r\nSubject: Weekly digest"
    assert classify(facts(headers, "Unsubscribe here")).kind == "unrelated"
    replied = classify(facts(headers, "Great idea!"), references_us=True)
    assert replied.kind == "human_reply"


def test_precedence_bulk_without_list_headers_is_an_auto_reply() -> None:
    verdict = classify(facts("Precedence: bulk\r\nSubject: Your request", "Ticket opened."))
    assert verdict.kind == "auto_reply"
    assert verdict.evidence == ["Precedence: bulk"]


def test_unsubscribe_words_in_the_quoted_original_do_not_count() -> None:
    body = "Sure, happy to add it.\n\nOn Mon, Emma <e@x.example> wrote:\n> unsubscribe: https://x"
    verdict = classify(facts("Subject: Re: hi", body), references_us=True)
    assert verdict.kind == "human_reply"


def test_unsubscribe_words_in_a_signature_do_not_count() -> None:
    body = "Sounds good.\n\n-- \nAcme Media | unsubscribe from our newsletter at acme.example"
    verdict = classify(facts("Subject: Re: hi", body), references_us=True)
    assert verdict.kind == "human_reply"


def test_not_interested_alone_is_a_reply_not_an_unsubscribe() -> None:
    verdict = classify(facts("Subject: Re: hi", "Not interested, thanks."), references_us=True)
    assert verdict.kind == "human_reply"


def test_unsubscribe_subject_counts() -> None:
    verdict = classify(facts("Subject: unsubscribe", ""), from_correspondent=True)
    assert verdict.kind == "unsubscribe_request"


def test_message_from_a_stranger_without_reply_cues_is_unrelated() -> None:
    verdict = classify(facts("Subject: Partnership", "We sell links."))
    assert verdict.kind == "unrelated"
    assert verdict.evidence == ["not a reply to any of our messages"]


def test_sender_we_wrote_to_makes_a_fresh_message_a_human_reply() -> None:
    verdict = classify(facts("Subject: About your email", "Yes."), from_correspondent=True)
    assert verdict.kind == "human_reply"
    assert verdict.evidence == ["from an address we wrote to"]


def test_dsn_hard_bounce_shows_its_status() -> None:
    dsn = DeliveryStatus(final_recipient="gone@x.example", action="failed", status="5.1.1")
    verdict = classify(
        facts(
            "Subject: Undelivered",
            content_type="multipart/report",
            report_type="delivery-status",
            dsn=dsn,
        )
    )
    assert verdict.kind == "bounce_hard"
    assert "Status: 5.1.1" in verdict.evidence
    assert verdict.bounce is not None and verdict.bounce.recipient == "gone@x.example"


def test_mailbox_full_is_soft_even_with_a_5xx_status() -> None:
    dsn = DeliveryStatus(final_recipient="full@x.example", action="failed", status="5.2.2")
    verdict = classify(
        facts(
            "Subject: Undelivered",
            content_type="multipart/report",
            report_type="delivery-status",
            dsn=dsn,
        )
    )
    assert verdict.kind == "bounce_soft"
    assert verdict.bounce is not None and not verdict.bounce.hard


def test_successful_delivery_report_is_not_a_bounce() -> None:
    dsn = DeliveryStatus(final_recipient="ok@x.example", action="delivered", status="2.0.0")
    verdict = classify(
        facts(
            "Subject: Delivered",
            content_type="multipart/report",
            report_type="delivery-status",
            dsn=dsn,
        )
    )
    assert verdict.kind == "auto_reply"
    assert verdict.bounce is None


def test_bounce_without_a_status_code_reads_the_words() -> None:
    soft = classify(facts("From: MAILER-DAEMON@mx.example\r\nSubject: Delivery delayed",
                          "Mailbox full for anna@x.example, will retry."))  # fmt: skip
    assert soft.kind == "bounce_soft"
    assert soft.bounce is not None and soft.bounce.recipient == "anna@x.example"
    hard = classify(facts("From: postmaster@mx.example\r\nSubject: Undeliverable: hi",
                          "Could not be delivered to bob@x.example."))  # fmt: skip
    assert hard.kind == "bounce_hard"
    assert "no status code: treated as final" in hard.evidence


def test_null_return_path_marks_a_bounce_from_an_unusual_sender() -> None:
    headers = "From: Mail Robot <robot@mx.example>\r\nReturn-Path: <>\r\nSubject: Undeliverable"
    verdict = classify(facts(headers, "550 5.1.1 <gone@x.example>"))
    assert verdict.kind == "bounce_hard"
    assert "Return-Path: <>" in verdict.evidence


def test_a_person_writing_about_an_undeliverable_email_is_not_a_bounce() -> None:
    verdict = classify(
        facts("From: Sarah <sarah@x.example>\r\nSubject: Re: Undeliverable invoice", "Fixed!"),
        references_us=True,
    )
    assert verdict.kind == "human_reply"


def test_bounces_win_over_auto_reply_headers() -> None:
    verdict = classify(
        facts(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
            "Auto-Submitted: auto-replied\r\nSubject: Mail delivery failed",
            "550 5.1.1 <gone@x.example>: User unknown",
        )
    )
    assert verdict.kind == "bounce_hard"
    assert verdict.bounce is not None and verdict.bounce.status == "5.1.1"


def test_out_of_office_without_a_message_date_uses_now() -> None:
    parsed = parse_message(
        b"Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\n",
        BodyPart(b"I am away, back on 9 November."),
    )
    assert classify(parsed, now=NOW).return_date == date(2026, 11, 9)
    assert classify(parsed).return_date is None


def test_look_alike_mail_system_notice_from_a_stranger_is_unrelated() -> None:
    verdict = classify(facts("From: IT Desk <it@mail-help.example>\r\nSubject: Mailbox full",
                             "Click here to release your messages."))  # fmt: skip
    assert verdict.kind == "unrelated"
    assert 'says "Mailbox full" like a mail-system notice' in verdict.evidence


def test_someone_we_wrote_to_saying_their_mailbox_is_full_is_a_reply() -> None:
    body = "Sorry for the delay, my mailbox is full after the holidays. Yes, send the link."
    verdict = classify(facts("From: sarah@x.example\r\nSubject: Gantt", body),
                       from_correspondent=True)  # fmt: skip
    assert verdict.kind == "human_reply"


def test_x_failed_recipients_from_an_ordinary_sender_is_no_bounce() -> None:
    verdict = classify(facts("From: Mail Delivery System <robot@bulk.example>\r\n"
                             "X-Failed-Recipients: sarah@x.example\r\nSubject: Hello",
                             "550 5.1.1 <sarah@x.example>: User unknown"))  # fmt: skip
    assert verdict.bounce is None and verdict.kind == "unrelated"


def test_a_report_naming_a_bare_domain_names_nobody() -> None:
    dsn = DeliveryStatus(final_recipient="victim.com", action="failed", status="5.1.1")
    verdict = classify(facts("Subject: Undelivered", content_type="multipart/report",
                             report_type="delivery-status", dsn=dsn))  # fmt: skip
    assert verdict.kind == "bounce_hard"
    assert verdict.bounce is not None and verdict.bounce.recipient is None
    assert "the report names no email address" in verdict.evidence


def test_a_mail_system_notice_naming_only_our_own_address_is_no_bounce() -> None:
    headers = "From: postmaster@mx.example\r\nTo: ana@ours.example\r\nSubject: Delivery failed"
    verdict = classify(facts(headers, "Quota exceeded for ana@ours.example."))
    assert verdict.bounce is None and verdict.kind == "unrelated"
