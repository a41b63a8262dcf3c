"""The IMAP edge against a real, private Dovecot: read-only, nothing new means no FETCH,
UIDVALIDITY resets and dropped connections lose and duplicate nothing."""

from __future__ import annotations

import dataclasses
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from imapclient import IMAPClient

from crm.mail.imap import (
    Cursor,
    ImapConnectionLost,
    ImapError,
    PollBatch,
    connect,
    poll_folder,
)
from crm.mail.parse import parse_raw
from tests.fixtures.dovecot import DovecotAccount, free_port
from tests.mail.drop_proxy import DropProxy

NOW = datetime.now(UTC)


def message(n: int, *, body: str = "Thanks, happy to add it.") -> bytes:
    return (
        f"From: Editor {n} <editor{n}@blog{n}.example>\r\n"
        f"To: emma@taskorbit.com\r\n"
        f"Subject: Re: Resource for your article {n}\r\n"
        f"Date: Tue, 3 Nov 2026 10:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <reply-{n}@blog{n}.example>\r\n"
        f"In-Reply-To: <touch-{n}@taskorbit.com>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


@pytest.fixture
def client(dovecot: DovecotAccount) -> Iterator[IMAPClient]:
    connection = connect(dovecot.settings())
    yield connection
    try:
        connection.logout()
    except Exception:
        connection.shutdown()


def drain(client: IMAPClient, cursor: Cursor, **options: int) -> tuple[list[PollBatch], Cursor]:
    """Poll like the worker: store each batch, advance the cursor, repeat while `more`."""
    batches = []
    while True:
        batch = poll_folder(client, "INBOX", cursor, now=NOW, **options)
        batches.append(batch)
        cursor = batch.cursor
        if not batch.more:
            return batches, cursor


def test_first_poll_returns_every_message_in_uid_order(
    dovecot: DovecotAccount, client: IMAPClient
) -> None:
    uids = dovecot.append_many(message(n) for n in range(1, 6))

    batch = poll_folder(client, "INBOX", Cursor(), now=NOW)

    assert [m.uid for m in batch.messages] == uids
    assert [m.facts.message_id for m in batch.messages] == [
        f"<reply-{n}@blog{n}.example>" for n in range(1, 6)
    ]
    assert [m.cursor.last_uid for m in batch.messages] == uids
    assert batch.cursor.last_uid == uids[-1]
    assert batch.messages[0].facts.snippet == "Thanks, happy to add it."


def test_poll_fetches_only_header_fields_and_bounded_part_snippets(
    dovecot: DovecotAccount, imap_proxy: DropProxy
) -> None:
    long_body = "A long reply line.\r\n" * 2000
    dovecot.append_many([message(1, body=long_body), message(2)])
    client = connect(dovecot.settings(port=imap_proxy.port))

    batch = poll_folder(client, "INBOX", Cursor(), now=NOW)
    client.logout()

    sent = imap_proxy.sent_since(0).decode()
    fetches = [line for line in sent.split("\r\n") if " FETCH " in line.upper()]
    assert fetches
    items = [item for line in fetches for item in re.findall(r"BODY[.\w]*\[[^\]]*\][<\d.>]*", line)]
    assert items
    for item in items:
        assert item.startswith("BODY.PEEK["), item
        assert "HEADER.FIELDS" in item or re.search(r"<0\.\d+>$", item), item
    assert "RFC822 " not in sent and "RFC822)" not in sent and "BODY[]" not in sent
    assert len(batch.messages[0].facts.snippet) <= 2000


def test_second_poll_with_nothing_new_issues_no_fetch_and_changes_no_flag(
    dovecot: DovecotAccount, imap_proxy: DropProxy
) -> None:
    dovecot.append_many(message(n) for n in range(1, 4))
    flags_before = dovecot.flags()
    client = connect(dovecot.settings(port=imap_proxy.port))
    first = poll_folder(client, "INBOX", Cursor(), now=NOW)

    mark = imap_proxy.mark()
    second = poll_folder(client, "INBOX", first.cursor, now=NOW)
    client.logout()

    assert second.messages == []
    assert second.cursor == first.cursor
    asked = imap_proxy.sent_since(mark).upper()
    assert b"FETCH" not in asked and b"SEARCH" not in asked
    assert b"EXAMINE" in asked  # read-only select
    assert dovecot.flags() == flags_before
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())


def test_new_messages_after_a_poll_are_the_only_ones_fetched(
    dovecot: DovecotAccount, client: IMAPClient
) -> None:
    dovecot.append_many(message(n) for n in range(1, 3))
    first = poll_folder(client, "INBOX", Cursor(), now=NOW)
    later = dovecot.append_many(message(n) for n in range(3, 5))

    second = poll_folder(client, "INBOX", first.cursor, now=NOW)

    assert [m.uid for m in second.messages] == later


def test_highest_uid_returned_by_n_star_is_not_fetched_again(
    dovecot: DovecotAccount, client: IMAPClient
) -> None:
    dovecot.append_many(message(n) for n in range(1, 4))
    first = poll_folder(client, "INBOX", Cursor(), now=NOW)
    with dovecot.client() as admin:  # expunge the newest: UIDNEXT stays ahead of the last UID
        admin.select_folder("INBOX")
        admin.delete_messages([first.cursor.last_uid])
        admin.expunge()
    cursor = Cursor(first.cursor.uidvalidity, first.cursor.last_uid - 1)

    second = poll_folder(client, "INBOX", cursor, now=NOW)

    # UID FETCH 3:* answers with UID 2, the highest left, which we already have.
    assert second.messages == []
    assert second.cursor.last_uid >= cursor.last_uid


def test_uidvalidity_reset_gives_no_duplicates_and_no_misses(dovecot: DovecotAccount) -> None:
    seen: dict[str, int] = {}  # the caller's store: dedupe key -> times stored

    def store(batch: PollBatch) -> None:
        for item in batch.messages:
            seen[item.facts.dedupe_key] = seen.get(item.facts.dedupe_key, 0) + 1

    dovecot.append_many(message(n) for n in range(1, 4))
    client = connect(dovecot.settings())
    first = poll_folder(client, "INBOX", Cursor(), now=NOW)
    for item in first.messages:
        seen[item.facts.dedupe_key] = 1
    client.logout()
    dovecot.append(message(4))  # arrives before the reset, never polled
    old, new = dovecot.reset_uidvalidity()
    dovecot.append(message(5))  # arrives after the reset

    client = connect(dovecot.settings())
    rescan = poll_folder(client, "INBOX", first.cursor, now=NOW)
    for item in rescan.messages:
        if item.facts.dedupe_key not in seen:  # the caller's de-duplication
            seen[item.facts.dedupe_key] = 1
    following = poll_folder(client, "INBOX", rescan.cursor, now=NOW)
    store(following)
    client.logout()

    assert new != old
    assert rescan.cursor.uidvalidity == new
    assert following.messages == []
    assert sorted(seen) == sorted(f"<reply-{n}@blog{n}.example>" for n in range(1, 6))
    assert set(seen.values()) == {1}


def test_rescan_is_bounded_to_recent_days(dovecot: DovecotAccount) -> None:
    dovecot.append(message(1), when=NOW - timedelta(days=60))
    dovecot.append(message(2), when=NOW - timedelta(days=1))
    client = connect(dovecot.settings())
    first = poll_folder(client, "INBOX", Cursor(), now=NOW)
    client.logout()
    dovecot.reset_uidvalidity()

    client = connect(dovecot.settings())
    rescan = poll_folder(client, "INBOX", first.cursor, now=NOW, rescan_days=14)
    client.logout()

    assert [m.facts.message_id for m in rescan.messages] == ["<reply-2@blog2.example>"]


def test_connection_dropped_mid_fetch_loses_nothing(
    dovecot: DovecotAccount, imap_proxy: DropProxy
) -> None:
    dovecot.append_many(message(n) for n in range(1, 6))
    cursor = Cursor()
    client = connect(dovecot.settings(port=imap_proxy.port))
    imap_proxy.drop_after(b"UID FETCH", server_bytes=300)

    with pytest.raises(ImapConnectionLost):
        poll_folder(client, "INBOX", cursor, now=NOW)

    retry = connect(dovecot.settings())
    batch = poll_folder(retry, "INBOX", cursor, now=NOW)  # the cursor never moved
    retry.logout()
    assert [m.facts.message_id for m in batch.messages] == [
        f"<reply-{n}@blog{n}.example>" for n in range(1, 6)
    ]
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())


def test_limit_reads_a_backlog_in_batches_without_gaps_or_repeats(
    dovecot: DovecotAccount, client: IMAPClient
) -> None:
    uids = dovecot.append_many(message(n) for n in range(1, 8))

    batches, cursor = drain(client, Cursor(), limit=3)

    assert [len(b.messages) for b in batches] == [3, 3, 1]
    assert [m.uid for b in batches for m in b.messages] == uids
    assert cursor.last_uid == uids[-1]


def test_empty_folder_records_its_uidvalidity(dovecot: DovecotAccount) -> None:
    with dovecot.client() as admin:
        admin.create_folder("Replies")
    client = connect(dovecot.settings())
    batch = poll_folder(client, "Replies", Cursor(), now=NOW)
    client.logout()

    assert batch.messages == [] and batch.cursor.uidvalidity is not None


def test_tls_and_starttls_connect_with_a_verified_certificate(dovecot: DovecotAccount) -> None:
    dovecot.append(message(1))
    for security in ("tls", "starttls"):
        client = connect(dovecot.settings(security))
        batch = poll_folder(client, "INBOX", Cursor(), now=NOW)
        client.logout()
        assert len(batch.messages) == 1, security


def test_untrusted_certificate_is_refused_and_not_retried(dovecot: DovecotAccount) -> None:
    with pytest.raises(ImapError) as refused:
        connect(dovecot.settings("tls", ca_file=None))
    assert not isinstance(refused.value, ImapConnectionLost)
    assert "certificate" in str(refused.value)


def test_wrong_password_is_a_clear_error_that_is_not_retried(dovecot: DovecotAccount) -> None:
    with pytest.raises(ImapError) as refused:
        connect(dovecot.settings(password="wrong"))
    assert not isinstance(refused.value, ImapConnectionLost)
    assert "login" in str(refused.value)


def test_missing_folder_is_a_clear_error(dovecot: DovecotAccount, client: IMAPClient) -> None:
    with pytest.raises(ImapError, match="Nowhere"):
        poll_folder(client, "Nowhere", Cursor(), now=NOW)


def test_closed_port_is_a_retryable_connection_error(dovecot: DovecotAccount) -> None:
    with pytest.raises(ImapConnectionLost):
        connect(dovecot.settings(port=free_port(), connect_timeout=2.0))


def test_silent_server_times_out_as_a_retryable_error(dovecot: DovecotAccount) -> None:
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        with pytest.raises(ImapConnectionLost):
            connect(dovecot.settings(port=silent.getsockname()[1], connect_timeout=0.5))
    assert time.monotonic() - started < 5


CORPUS = Path(__file__).parent / "corpus"


def crlf(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", raw)


def test_polled_corpus_gives_the_facts_of_the_whole_file_and_stays_unseen(
    dovecot: DovecotAccount,
) -> None:
    files = sorted(CORPUS.glob("*.eml"))
    dovecot.append_many(crlf(path.read_bytes()) for path in files)
    before = dovecot.flags()

    client = connect(dovecot.settings())
    try:
        batch = poll_folder(client, "INBOX", Cursor(), now=NOW)
    finally:
        client.logout()

    assert [m.uid for m in batch.messages] == sorted(before)
    assert len(batch.messages) == len(files)
    for path, message in zip(files, batch.messages, strict=True):
        # The bounded IMAP fetch sees exactly what reading the whole file sees
        # (tests/replies/test_matching.py reads every file as labelled).
        from_file = parse_raw(crlf(path.read_bytes()))
        assert dataclasses.replace(message.facts, date=None) == dataclasses.replace(
            from_file, date=None
        ), path.name
    assert dovecot.flags() == before
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())
