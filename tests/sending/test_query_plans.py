"""The sender's statements by touch id use the primary key on PostgreSQL.

With statistics that see almost no claimed touches (as right after ANALYZE,
and as in any live database), PostgreSQL estimated "id = :tid AND state =
'claimed'" at one row either way and walked ix_touches_state_due, through
every dead entry the pass had left there: each message slower than the last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from psycopg.types.json import Json
from sqlalchemy import event, text, update

from crm.models import Touch, TouchState
from crm.outreach import fast_path, outbox_sql
from tests.sending.helpers import enroll_all, make_campaign, make_mailbox, make_prospects

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def analyzed(app: Flask, db: Any, backend: str, server: Any) -> int:
    """Enroll enough prospects for statistics, analyze, and claim one touch; return its id.

    (SQLite needs no such test: it always looks a rowid up by its key.)
    """
    campaign, target = make_campaign()
    make_mailbox(server)
    enroll_all(make_prospects(campaign, target, 250), NOW)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE touches"))
        conn.commit()
    touch_id = db.session.scalars(text("SELECT min(id) FROM touches")).one()
    db.session.execute(
        update(Touch).where(Touch.id == touch_id).values(state="claimed", claimed_by="me")
    )
    db.session.commit()
    return int(touch_id)


def _plan(db: Any, sql: str, params: dict[str, Any]) -> str:
    with db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_taking_a_touch_to_sending_finds_it_by_its_primary_key(db: Any, analyzed: int) -> None:
    sql, _ = fast_path._start_sql(True, False, False, True, True)
    params: dict[str, Any] = dict.fromkeys(
        ["holder", "email", "domain", "subject", "body", "reply", "summary"], "x"
    )
    params.update(
        tid=analyzed, sent_tid=analyzed, eid=1, pid=1, attempts=1, mid=1, cap=10,
        prospect_id=1, data=Json({}), watch=NOW, lease=NOW, now=NOW, day_start=NOW,
        sent_at=NOW, at=NOW,
    )  # fmt: skip
    plan = _plan(db, sql, params)
    assert "pk_touches" in plan and "ix_touches_state_due" not in plan, plan


@pytest.mark.parametrize("statement", ["defer", "finish", "release"])
def test_moving_a_held_touch_finds_it_by_its_primary_key(
    db: Any, analyzed: int, statement: str
) -> None:
    built = {
        "defer": outbox_sql.defer(),
        "finish": outbox_sql.finish(()),
        "release": outbox_sql.release(False, True),
    }[statement]
    values = {"tid": analyzed, "ids": [analyzed], "holder": "me", "until": NOW, "note": "x"}
    values.update(v_state=TouchState.SENT, v_note="x")
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, sql: str, params: Any, *args: Any) -> None:
        sent.append((sql, params))

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", keep)
        conn.execute(built, values)  # as the sender runs it; rolled back
        conn.rollback()
    (sql, params), *_ = sent
    plan = _plan(db, sql, params)
    assert "pk_touches" in plan and "ix_touches_state_due" not in plan, plan
