"""Every labelled corpus message, read the way the poller reads it: parse, match, classify."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.mail.parse import InboundFacts, parse_raw
from crm.outreach.replies import InboundReading, read_inbound, suggest_outcome
from tests.mail.fakes import CORPUS, Label, corpus_labels

MAILBOX, LOOKUP, LABELS = corpus_labels()
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)


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
    reading = read_inbound(facts, LOOKUP, mailbox_addresses=[MAILBOX], now=NOW)
    check_label(label, facts, reading)
