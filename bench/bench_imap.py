"""IMAP benchmark (DESIGN §9): polling a 20,000-message folder in a private Dovecot.

Two figures, each next to a bare imapclient baseline in the same run and on
the same connection state:

- a poll with nothing new (crm.mail.imap.poll_folder) against a bare
  SELECT + UID SEARCH; the poll must fetch no bodies at all;
- the first full sync (header fields, BODYSTRUCTURE and bounded text
  snippets, parsed into facts) against a bare FETCH of the same header fields.

Then the whole product path, `crm.replies.poll_pass.run_poll_pass` into a fresh
SQLite database (match, classify, store, apply effects, advance the cursor):

- its first sync of the same folder, next to the same bare header FETCH;
- a pass with nothing new (log in, SELECT, nothing fetched, log out) next to a
  bare imapclient log in + SELECT + UID SEARCH + log out.

The folder is filled by writing maildir files directly (copies of the labelled
corpus with fresh Message-IDs), then Dovecot indexes it once before timing.
Skips (no rows) with a note on stderr when Dovecot is not installed.
Run alone with ``python -m bench.run imap``; ``BENCH_IMAP_N`` changes N.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.response_parser import parse_fetch_response

from bench.common import BenchRow, best_of
from crm.mail.imap import Cursor, connect, poll_folder
from crm.mail.parse import HEADER_FIELDS

N = int(os.environ.get("BENCH_IMAP_N", "20000"))
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "mail" / "corpus"
_MESSAGE_ID = re.compile(
    rb"^Message-I[Dd]:[^\n]*\n(?:[ \t][^\n]*\n)*", re.MULTILINE | re.IGNORECASE
)


def folder_messages(n: int = N) -> Iterator[bytes]:
    """Yield n realistic messages: the corpus over and over, each with its own Message-ID."""
    templates = [
        _MESSAGE_ID.sub(b"", path.read_bytes().replace(b"\r\n", b"\n"))
        for path in sorted(CORPUS.glob("*.eml"))
    ]
    for i in range(n):
        raw = templates[i % len(templates)]
        yield b"Message-ID: <bench-%d@imap.bench.example>\n" % i + raw


def _bare_select_and_search(client: IMAPClient, last_uid: int) -> list[int]:
    client.select_folder("INBOX", readonly=True)
    return [uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid]


def _bare_header_fetch(client: IMAPClient) -> int:
    client.select_folder("INBOX", readonly=True)
    fields = " ".join(name.upper() for name in HEADER_FIELDS)
    # imapclient's fetch() cannot take a "1:*" range (see crm.mail.imap), so the
    # baseline, like the poller, sends the range through imaplib and parses with imapclient.
    typ, data = client._imap.uid("FETCH", "1:*", f"(BODY.PEEK[HEADER.FIELDS ({fields})])")
    assert typ == "OK"
    return len(parse_fetch_response(data, True, True))


def _interleaved(
    runs: int, ours: Callable[[], list[Any]], bare: Callable[[], list[Any]]
) -> tuple[float, float]:
    """Return the best times of two idle polls, run turn about so server noise hits both."""
    best = [float("inf"), float("inf")]
    for _ in range(3):  # warm up: the first selects after a big sync are slower
        ours(), bare()
    for _ in range(runs):
        for side, fn in enumerate((ours, bare)):
            start = time.perf_counter()
            assert fn() == []
            best[side] = min(best[side], time.perf_counter() - start)
    return best[0], best[1]


def run() -> list[BenchRow]:
    try:
        from tests.components import dovecot_binary
        from tests.fixtures.dovecot import run_dovecot
    except ImportError as exc:  # the test helpers are not installed
        print(f"bench_imap: skipped ({exc})", file=sys.stderr)
        return []
    if dovecot_binary() is None:
        print("bench_imap: skipped, Dovecot is not installed", file=sys.stderr)
        return []
    try:
        with run_dovecot() as server:
            return _measure(server)
    except (KeyError, RuntimeError, FileNotFoundError) as exc:
        print(f"bench_imap: skipped, cannot start Dovecot ({exc})", file=sys.stderr)
        return []


def _measure(server: object) -> list[BenchRow]:
    from tests.fixtures.dovecot import DovecotServer

    assert isinstance(server, DovecotServer)
    account = server.add_user()
    account.write_maildir(folder_messages())
    now = datetime.now(UTC)
    client = connect(account.settings())
    try:
        # Let Dovecot index the folder and fill its cache once, so both sides of each
        # comparison meet the same server state.
        assert _bare_header_fetch(client) == N
        poll_folder(client, "INBOX", Cursor(), now=now)

        sync_time, batch = best_of(2, lambda: poll_folder(client, "INBOX", Cursor(), now=now))
        assert len(batch.messages) == N
        bare_sync, fetched = best_of(2, lambda: _bare_header_fetch(client))
        assert fetched == N

        cursor = batch.cursor
        idle_time, bare_idle = _interleaved(
            40,
            lambda: poll_folder(client, "INBOX", cursor, now=now).messages,
            lambda: _bare_select_and_search(client, cursor.last_uid),
        )
    finally:
        client.logout()
    db_sync, db_idle, bare_pass = _db_pass(account, cursor.last_uid)
    size = f"{N:,} messages"
    return [
        BenchRow(f"IMAP poll, nothing new, {size} (no FETCH)", idle_time,
                 "bare imapclient SELECT + UID SEARCH", bare_idle, target="≤ 1.5×"),
        BenchRow(f"IMAP first sync, {size} (headers + snippets, parsed)", sync_time,
                 "bare imapclient header FETCH", bare_sync),
        BenchRow(f"poll pass into the DB, first sync, {size} (stored, classified)", db_sync,
                 "bare imapclient header FETCH", bare_sync),
        BenchRow(f"poll pass into the DB, nothing new, {size} (login to logout)", db_idle,
                 "bare login + SELECT + UID SEARCH + logout", bare_pass, target="≤ 1.5×"),
    ]  # fmt: skip


def _db_pass(account: Any, last_uid: int) -> tuple[float, float, float]:
    """Time run_poll_pass on a fresh SQLite database: the first sync, then idle passes."""
    import flask_migrate
    from cryptography.fernet import Fernet

    from crm import create_app
    from crm.crypto import encrypt_secret
    from crm.extensions import db
    from crm.models import InboundMessage, Mailbox, Security
    from crm.replies.poll_pass import PollSettings, run_poll_pass

    key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory(prefix="linkgap-bench-imap-") as folder:
        app = create_app({
            "DATABASE_URL": f"sqlite:///{folder}/bench.db", "INSTANCE_PATH": folder,
            "SECRET_KEY": "bench", "ENCRYPTION_KEY": key,
        })  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
            db.session.add(Mailbox(
                name="bench", from_email="emma@taskorbit.com", username=account.username,
                password_encrypted=encrypt_secret(key, account.password),
                smtp_host="127.0.0.1", smtp_port=9, smtp_security=Security.NONE,
                imap_host="127.0.0.1", imap_port=account.server.port,
                imap_security=Security.NONE,
            ))  # fmt: skip
            db.session.commit()
            # Every message of the folder is new: read them all, however old.
            settings = PollSettings(first_sync_days=36500, batch=500)
            sync_time, counts = best_of(1, lambda: run_poll_pass(settings=settings))
            stored = db.session.query(InboundMessage).count()
            assert counts["fetched"] == stored, (counts, stored)
            idle_time, idle = _interleaved_passes(
                lambda: run_poll_pass(settings=settings)["fetched"],
                lambda: _bare_pass(account, last_uid),
            )
            db.session.remove()
            db.engine.dispose()
    return sync_time, idle_time, idle


def _bare_pass(account: Any, last_uid: int) -> int:
    client = IMAPClient("127.0.0.1", account.server.port, ssl=False, timeout=10)
    client.login(account.username, account.password)
    found = _bare_select_and_search(client, last_uid)
    client.logout()
    return len(found)


def _interleaved_passes(ours: Callable[[], int], bare: Callable[[], int]) -> tuple[float, float]:
    best = [float("inf"), float("inf")]
    ours(), bare()  # warm up
    for _ in range(10):
        for side, fn in enumerate((ours, bare)):
            start = time.perf_counter()
            assert fn() == 0
            best[side] = min(best[side], time.perf_counter() - start)
    return best[0], best[1]
