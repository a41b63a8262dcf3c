"""The labelled corpus, appended to a real Dovecot and read back through the poller."""

from __future__ import annotations

import dataclasses
import re

from crm.mail.imap import Cursor, connect, poll_folder
from crm.mail.parse import parse_raw
from crm.outreach.replies import read_inbound
from tests.fixtures.dovecot import DovecotAccount
from tests.mail.fakes import CORPUS
from tests.mail.test_corpus import LABELS, LOOKUP, MAILBOX, NOW, check_label


def crlf(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", raw)


def test_polled_corpus_reads_as_labelled_and_stays_unseen(dovecot: DovecotAccount) -> None:
    dovecot.append_many(crlf((CORPUS / label.name).read_bytes()) for label in LABELS)
    before = dovecot.flags()

    client = connect(dovecot.settings())
    try:
        batch = poll_folder(client, "INBOX", Cursor(), now=NOW)
    finally:
        client.logout()

    assert [m.uid for m in batch.messages] == sorted(before)
    assert len(batch.messages) == len(LABELS)
    for label, message in zip(LABELS, batch.messages, strict=True):
        reading = read_inbound(message.facts, LOOKUP, mailbox_addresses=[MAILBOX], now=NOW)
        check_label(label, message.facts, reading)
        # The bounded IMAP fetch sees exactly what reading the whole file sees.
        from_file = parse_raw(crlf((CORPUS / label.name).read_bytes()))
        assert dataclasses.replace(message.facts, date=None) == dataclasses.replace(
            from_file, date=None
        ), label.name
    assert dovecot.flags() == before
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())
