"""One commit per message: what the sender commits when, and that the body never outruns it.

The ``sending`` of a touch is committed on a helper thread while the server
answers the envelope; its ``sent`` rides in the next commit of the pass
(crm.outreach.send_commits). These tests hold the sender to the guarantees
that make that safe; the SIGKILL tests in test_crash_safety cover crashes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from crm.models import Mailbox, ProspectStatus, Touch, Touchpoint, TouchState
from crm.outreach import durability, outbox
from crm.outreach.send_commits import PassCommits
from tests.fixtures.smtp import ReceivedMessage, SmtpTestServer
from tests.sending.helpers import (
    enroll_all,
    make_campaign,
    make_mailbox,
    make_prospects,
    send_pass,
    touches,
)

pytestmark = pytest.mark.postgres

# Wednesday 2026-11-18, 15:00 UTC.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


class _SlowCommit:
    """A driver connection whose commit takes a while: a slow disk."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def commit(self) -> None:
        time.sleep(0.05)
        self._connection.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_the_body_never_reaches_the_server_before_sending_is_committed(
    app: Flask, db: Any, server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 3), NOW)
    engine = db.engine
    seen: dict[str, str] = {}
    keep = server._keep

    def look_when_the_body_arrives(message: ReceivedMessage) -> None:
        # The server's thread, its own connection: only committed rows are visible.
        with engine.connect() as conn:
            state = conn.execute(
                text("SELECT state FROM touches WHERE message_id = :m"),
                {"m": message.message_id},
            ).scalar_one()
        seen[str(message.message_id)] = str(state)
        keep(message)

    monkeypatch.setattr(server, "_keep", look_when_the_body_arrives)
    real = durability._driver_connection
    monkeypatch.setattr(durability, "_driver_connection", lambda: _SlowCommit(real()))

    assert send_pass(app, NOW)["sent"] == 3
    assert len(seen) == 3 and set(seen.values()) == {"sending"}, seen
    assert {t.state for t in touches() if t.step == 1} == {TouchState.SENT}


class _WatchedCommit:
    """A driver connection that notes how hard each commit will reach the disk."""

    def __init__(self, connection: Any, backend: str, seen: list[str]) -> None:
        self._connection = connection
        self._query = "SHOW synchronous_commit" if backend == "postgres" else "PRAGMA synchronous"
        self._seen = seen

    def commit(self) -> None:
        cursor = self._connection.cursor()
        cursor.execute(self._query)
        self._seen.append(str(cursor.fetchone()[0]))
        cursor.close()
        self._connection.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_every_commit_of_sending_waits_for_the_disk(
    app: Flask, db: Any, backend: str, server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 3), NOW)
    seen: list[str] = []
    real = durability._driver_connection
    monkeypatch.setattr(
        durability, "_driver_connection", lambda: _WatchedCommit(real(), backend, seen)
    )
    assert send_pass(app, NOW)["sent"] == 3
    # The 2nd and 3rd also carry the record of the send before them.
    full = "on" if backend == "postgres" else "2"  # SQLite: synchronous=FULL
    assert seen == [full, full, full]


def test_a_sent_record_is_committed_with_the_next_touchs_sending(
    app: Flask, db: Any, server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 3), NOW)
    engine = db.engine
    committed: list[list[str]] = []
    begin = outbox.begin_sending

    def look_before_each_start(check: outbox.SendingCheck, *args: Any, **kwargs: Any) -> Any:
        with engine.connect() as conn:
            committed.append(
                list(
                    conn.execute(
                        text("SELECT state FROM touches WHERE step = 1 ORDER BY id")
                    ).scalars()
                )
            )
        return begin(check, *args, **kwargs)

    monkeypatch.setattr(outbox, "begin_sending", look_before_each_start)
    assert send_pass(app, NOW)["sent"] == 3

    # Before the 2nd send the 1st was accepted but its record still waits for
    # this very transaction; by the 3rd, the 1st is sent and the 2nd waits.
    assert committed[0] == ["claimed", "claimed", "claimed"]
    assert committed[1] == ["sending", "claimed", "claimed"]
    assert committed[2] == ["sent", "sending", "claimed"]
    # The last one is committed when the pass ends, with its timeline entry.
    assert {t.state for t in touches() if t.step == 1} == {TouchState.SENT}
    entries = db.session.scalars(select(Touchpoint).where(Touchpoint.kind == "sent")).all()
    assert len(entries) == 3


def test_an_accepted_touch_is_committed_before_the_pass_does_anything_else(
    app: Flask, db: Any, server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 2), NOW)
    engine = db.engine
    states: list[list[str]] = []
    commit = PassCommits.commit

    def look_after_commit(self: PassCommits) -> None:
        commit(self)
        with engine.connect() as conn:
            states.append(
                list(
                    conn.execute(
                        text("SELECT state FROM touches WHERE step = 1 ORDER BY id")
                    ).scalars()
                )
            )

    monkeypatch.setattr(PassCommits, "commit", look_after_commit)
    assert send_pass(app, NOW)["sent"] == 2
    # claim, then the empty claim that ends the pass: the 2nd record is in it.
    assert states[0] == ["claimed", "claimed"]
    assert states[-1] == ["sent", "sent"]


def test_a_message_refused_before_data_gives_its_slot_back(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    campaign, target = make_campaign()
    mailbox = make_mailbox(server, daily_cap=2)
    enroll_all(make_prospects(campaign, target, 3), NOW)
    server.script.rcpt("editor@site0.example", "451 4.3.0 try again later")

    counts = send_pass(app, NOW)

    assert counts["retry"] == 1 and counts["sent"] == 2, counts
    refreshed = db.session.get(Mailbox, mailbox.id)
    assert refreshed.cap_day_sent == 2, "the refused attempt does not count"
    retry = next(t for t in touches() if t.step == 1 and t.state == TouchState.RETRY_WAIT)
    assert retry.attempts == 1 and "451 4.3.0" in retry.last_error


def test_a_touch_lost_during_mail_from_is_reset_without_a_new_connection(
    app: Flask, db: Any, server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enrolled = enroll_all(make_prospects(campaign, target, 3), NOW).enrolled
    stopped = enrolled[1]
    begin = outbox.begin_sending

    def stop_then_begin(check: outbox.SendingCheck, *args: Any, **kwargs: Any) -> Any:
        if check.enrollment_id == stopped.id:
            with db.engine.begin() as conn:  # another process cancels the touch
                conn.execute(
                    text("UPDATE touches SET state = 'cancelled' WHERE id = :t"),
                    {"t": check.touch_id},
                )
        return begin(check, *args, **kwargs)

    monkeypatch.setattr(outbox, "begin_sending", stop_then_begin)
    assert send_pass(app, NOW)["sent"] == 2
    assert server.connections == 1, "RSET, not a dropped connection"
    lost = db.session.scalars(
        select(Touch).where(Touch.enrollment_id == stopped.id, Touch.step == 1)
    ).one()
    assert lost.state == TouchState.CANCELLED
    assert lost.message_id not in server.message_ids()


class _CountedCommits:
    """A driver connection that only counts its commits."""

    def __init__(self) -> None:
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1


@pytest.fixture
def committer() -> Iterator[durability._Committer]:
    helper = durability._Committer()
    try:
        yield helper
    finally:
        helper.stop()


def test_the_commit_helper_hands_its_error_to_the_sender(
    committer: durability._Committer,
) -> None:
    failing = threading.Event()

    class Broken:
        def commit(self) -> None:
            failing.set()
            raise RuntimeError("disk I/O error")

    committer.start(Broken())
    assert committer.checked() is None
    with pytest.raises(RuntimeError, match="disk I/O error"):
        committer.wait()
    assert failing.is_set()


def test_the_commit_helper_commits_nothing_when_the_statement_objects(
    committer: durability._Committer,
) -> None:
    connection = _CountedCommits()
    committer.start(connection, lambda: "lost")
    assert committer.checked() == "lost"
    committer.wait()
    committer.start(connection, lambda: None)
    assert committer.checked() is None
    committer.wait()
    assert connection.commits == 1, "only the transaction whose statement found no problem"


def test_the_commit_helper_hands_a_statement_error_to_the_sender_and_commits_nothing(
    committer: durability._Committer,
) -> None:
    connection = _CountedCommits()

    def broken() -> str | None:
        raise RuntimeError("database is locked")

    committer.start(connection, broken)
    with pytest.raises(RuntimeError, match="database is locked"):
        committer.checked()
    committer.wait()
    assert connection.commits == 0


def test_a_first_touch_is_on_the_timeline_before_the_status_change_it_causes(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    prospects = make_prospects(campaign, target, 3)
    enroll_all(prospects, NOW)
    for prospect in prospects:  # moved back by hand: the first send moves it on again
        prospect.status = ProspectStatus.QUALIFIED
    db.session.commit()

    assert send_pass(app, NOW)["sent"] == 3

    for prospect in prospects:
        entries = db.session.scalars(
            select(Touchpoint)
            .where(
                Touchpoint.prospect_id == prospect.id,
                Touchpoint.kind.in_(["sent", "status_change"]),
            )
            .order_by(Touchpoint.id)
        ).all()
        assert [(e.kind.value, e.summary.split(":")[0]) for e in entries][-2:] == [
            ("sent", "Touch 1 sent to " + prospect.contacts[0].email),
            ("status_change", "qualified → contacted"),
        ]
        db.session.refresh(prospect)
        assert prospect.status.value == "contacted"


def test_a_later_pass_sends_nothing_twice_after_the_helper_thread(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 4), NOW)
    assert send_pass(app, NOW)["sent"] == 4
    assert send_pass(app, NOW + timedelta(minutes=1))["sent"] == 0
    assert len(server.message_ids()) == len(set(server.message_ids())) == 4
    assert threading.active_count() < 20, "the helper threads are stopped"
