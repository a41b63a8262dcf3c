"""The sender's per-message statements, run straight on the database driver's cursor.

A message costs a handful of statements and two commits; through SQLAlchemy's
execution layer each statement cost several times what the database spends on
it, which alone put the send path far past its target of twice a bare smtplib
loop (DESIGN §9). These few statements are therefore written once here as SQL
for SQLite and PostgreSQL and run on the cursor of the session's own
connection, inside the session's transaction: the session's commit commits
them. Values are adapted the way the models store them: aware UTC datetimes
as SQLite's ``YYYY-MM-DD HH:MM:SS.ffffff`` text (what ``UTCDateTime`` writes),
enums as their values, JSON as text on SQLite and ``Json`` on PostgreSQL.

On PostgreSQL, where each statement is a round trip, the statements of one
step are joined with data-modifying CTEs: starting a send is one statement
(touch and mailbox slot), recording it another (touch and timeline entry).
Neither touches ``synchronous_commit``: the sender writes a send's record in
the same transaction as the next touch's ``sending``, which must reach the
disk (crm.outreach.send_commits).

Everything else in the outbox goes through SQLAlchemy (crm.outreach.outbox_sql).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from crm.extensions import db

_PARAM = re.compile(r"(?<!:):([a-z_]+)")

# Claimed -> sending, if the touch is still ours, its enrollment active, no human
# reply (from the prospect, or this enrollment when replies do not stop all of
# them) or hard bounce since the enrollment started, and the address and its
# domain not suppressed. {reply_scope} is filled per campaign setting.
# The state tests are written "(...) IS TRUE" so that the touch is found by its
# primary key (crm.outreach.outbox_sql.by_primary_key says why).
TAKE_SENDING = """
UPDATE touches SET state = 'sending', attempts = :attempts, lease_until = :lease,
       subject = :subject, body = :body
WHERE id = :tid AND claimed_by = :holder AND (state = 'claimed') IS TRUE
  AND EXISTS (SELECT 1 FROM enrollments WHERE id = :eid AND state = 'active')
  AND NOT EXISTS (
    SELECT 1 FROM inbound_messages
    WHERE prospect_id = :pid AND received_at >= :watch
      AND ((kind = 'human_reply' AND {reply_scope})
           OR (kind = 'bounce_hard' AND enrollment_id = :eid)))
  AND NOT EXISTS (SELECT 1 FROM suppressions WHERE value IN (:email, :domain))
"""

# The mailbox's counter for its local day, taken only under the cap and after
# the spacing ({rules}); on PostgreSQL only once the touch was taken ({after}).
TAKE_SLOT = """
UPDATE mailboxes SET last_sent_at = :now, cap_day_start = :day_start,
       cap_day_sent = CASE WHEN cap_day_start = :day_start THEN cap_day_sent + 1 ELSE 1 END
WHERE id = :mid AND paused = {false}{rules}{after}
"""

PG_TAKE_BOTH = """
WITH touch AS ({take_sending} RETURNING id),
     slot AS ({take_slot} RETURNING id)
SELECT (SELECT count(*) FROM touch), (SELECT count(*) FROM slot), 0
"""

# The same, with the record of the send before it (touch sent, timeline entry):
# one statement, so one round trip, per message.
PG_RECORD_AND_TAKE_BOTH = """
WITH sent AS ({mark_sent} RETURNING id),
     entry AS (INSERT INTO touchpoints (prospect_id, at, kind, summary, actor_id, data)
               SELECT :prospect_id, :at, 'sent', :summary, NULL, :data FROM sent),
     touch AS ({take_sending} RETURNING id),
     slot AS ({take_slot} RETURNING id)
SELECT (SELECT count(*) FROM touch), (SELECT count(*) FROM slot), (SELECT count(*) FROM sent)
"""

MARK_SENT = """
UPDATE touches SET state = 'sent', sent_at = :sent_at, smtp_reply = :reply, last_error = '',
       lease_until = NULL
WHERE id = :tid AND claimed_by = :holder AND (state IN ('claimed', 'sending', 'uncertain')) IS TRUE
"""

ADD_TOUCHPOINT = """
INSERT INTO touchpoints (prospect_id, at, kind, summary, actor_id, data)
VALUES (:prospect_id, :at, 'sent', :summary, :actor_id, :data)
"""

PG_MARK_SENT_WITH_TOUCHPOINT = """
WITH sent AS ({mark_sent} RETURNING id)
INSERT INTO touchpoints (prospect_id, at, kind, summary, actor_id, data)
SELECT :prospect_id, :at, 'sent', :summary, NULL, :data FROM sent
RETURNING id
"""

# A slot taken for a message the server never received (refused or cut off
# before DATA): the day's count goes back down. last_sent_at stays, so the
# spacing counts from the attempt: later, never sooner.
GIVE_BACK_SLOT = """
UPDATE mailboxes SET cap_day_sent = cap_day_sent - 1
WHERE id = :mid AND cap_day_start = :day_start AND cap_day_sent > 0
"""


def _driver() -> Any:
    """Return the driver's connection under the session's (the hot path's one lookup)."""
    return db.session.connection().connection.driver_connection


def _is_postgres(connection: Any) -> bool:
    return not isinstance(connection, sqlite3.Connection)


@cache
def _sql(template: str, postgres: bool, **parts: str) -> str:
    text = template.format(**parts) if parts else template
    return _PARAM.sub(r"%(\1)s", text) if postgres else text


def _time(value: datetime, postgres: bool) -> Any:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: store aware UTC datetimes")
    utc = value.astimezone(UTC)
    # What UTCDateTime writes on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff".
    return utc if postgres else utc.replace(tzinfo=None).isoformat(" ", "microseconds")


def _execute(sql: str, params: dict[str, Any], connection: Any = None) -> int:
    """Run one statement in the session's transaction; return the rows it changed."""
    cursor = (connection or _driver()).cursor()
    try:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _fetch_one(sql: str, params: dict[str, Any], connection: Any = None) -> tuple[Any, ...]:
    cursor = (connection or _driver()).cursor()
    try:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())
    finally:
        cursor.close()


@dataclass(frozen=True)
class Start:
    """What starting a send needs: the touch, what must still hold, the mailbox's rules."""

    touch_id: int
    holder: str
    enrollment_id: int
    prospect_id: int
    watch_from: datetime
    stop_all_on_reply: bool
    email: str
    domain: str
    attempts: int
    lease_until: datetime
    subject: str
    body: str
    mailbox_id: int
    now: datetime
    day_start: datetime
    daily_cap: int | None
    ready_before: datetime | None  # the last send must be at or before this (spacing)


@cache
def _start_sql(
    postgres: bool, stop_all: bool, spacing: bool, cap: bool, record: bool
) -> tuple[str, str]:
    """Return the statements that start a send, for one shape (PostgreSQL: one statement)."""
    rules = ""
    if spacing:
        rules += " AND (last_sent_at IS NULL OR last_sent_at <= :ready_before)"
    if cap:
        rules += (
            " AND (cap_day_start IS NULL OR cap_day_start <> :day_start OR cap_day_sent < :cap)"
        )
    scope = ("TRUE" if postgres else "1") if stop_all else "enrollment_id = :eid"
    take_sending = TAKE_SENDING.format(reply_scope=scope).strip()
    if postgres:
        take_slot = TAKE_SLOT.format(
            false="FALSE", rules=rules, after=" AND EXISTS (SELECT 1 FROM touch)"
        ).strip()
        if record:
            mark_sent = MARK_SENT.strip().replace(":tid", ":sent_tid")
            both = PG_RECORD_AND_TAKE_BOTH
            return _sql(
                both, True, mark_sent=mark_sent, take_sending=take_sending, take_slot=take_slot
            ), ""
        return _sql(PG_TAKE_BOTH, True, take_sending=take_sending, take_slot=take_slot), ""
    return take_sending, TAKE_SLOT.format(false="0", rules=rules, after="").strip()


@dataclass(frozen=True)
class Record:
    """A send to record (touch sent, timeline entry), as mark_sent takes it."""

    touch_id: int
    sent_at: datetime
    reply: str
    prospect_id: int
    summary: str
    data: dict[str, Any]


def start_sending(start: Start, record: Record | None = None) -> Callable[[], str | None]:
    """Return the statement that takes the touch (claimed -> sending) and the mailbox's slot.

    Built here, on the session's connection; run it later, on that same
    connection, possibly from the thread that commits it
    (crm.outreach.durability): it returns why the send may not go, or None.
    ``"lost"``: the touch is no longer ours to send; ``"mailbox"``: paused,
    full for the day or within its spacing; ``"record"``: the ``record`` of
    an earlier send, written in the same transaction (on PostgreSQL in the
    same statement) once the touch is taken, found its touch no longer ours.
    On an answer the caller rolls back.
    """
    if start.daily_cap is not None and start.daily_cap <= 0:
        return _answer("mailbox")
    connection = _driver()
    pg = _is_postgres(connection)
    params: dict[str, Any] = {
        "tid": start.touch_id,
        "holder": start.holder,
        "eid": start.enrollment_id,
        "pid": start.prospect_id,
        "watch": _time(start.watch_from, pg),
        "email": start.email,
        "domain": start.domain,
        "attempts": start.attempts,
        "lease": _time(start.lease_until, pg),
        "subject": start.subject,
        "body": start.body,
        "mid": start.mailbox_id,
        "now": _time(start.now, pg),
        "day_start": _time(start.day_start, pg),
    }
    if start.ready_before is not None:
        params["ready_before"] = _time(start.ready_before, pg)
    if start.daily_cap is not None:
        params["cap"] = start.daily_cap
    take_touch, take_slot = _start_sql(
        pg,
        start.stop_all_on_reply,
        start.ready_before is not None,
        start.daily_cap is not None,
        pg and record is not None,
    )
    if pg:
        if record is not None:
            record_params = _record_params(record, start.holder, pg)
            record_params["sent_tid"] = record_params.pop("tid")  # :tid is the touch taken
            params.update(record_params)

        def take_pg() -> str | None:
            touch, slot, sent = _fetch_one(take_touch, params, connection)
            if touch != 1:
                return "lost"
            if slot != 1:
                return "mailbox"
            return "record" if record is not None and sent != 1 else None

        return take_pg
    marking = _record_params(record, start.holder, pg) if record is not None else None

    def take_sqlite() -> str | None:
        if _execute(take_touch, params, connection) != 1:
            return "lost"
        if _execute(take_slot, params, connection) != 1:
            return "mailbox"
        # After the touch was taken, so that compare-and-set stays the first write.
        if marking is not None and not _mark_sent_params(marking, connection, pg):
            return "record"
        return None

    return take_sqlite


def _answer(problem: str | None) -> Callable[[], str | None]:
    return lambda: problem


def _touchpoint_params(
    pg: bool, prospect_id: int, at: datetime, summary: str, actor_id: int | None, data: Any
) -> dict[str, Any]:
    if pg:
        from psycopg.types.json import Json

        payload: Any = Json(data)
    else:
        payload = json.dumps(data)
    return {
        "prospect_id": prospect_id,
        "at": _time(at, pg),
        "summary": summary,
        "actor_id": actor_id,
        "data": payload,
    }


def _record_params(record: Record, holder: str, pg: bool) -> dict[str, Any]:
    return {
        "tid": record.touch_id,
        "holder": holder,
        "sent_at": _time(record.sent_at, pg),
        "reply": record.reply,
        **_touchpoint_params(
            pg, record.prospect_id, record.sent_at, record.summary, None, record.data
        ),
    }


def _mark_sent(record: Record, holder: str, connection: Any, pg: bool) -> bool:
    return _mark_sent_params(_record_params(record, holder, pg), connection, pg)


def _mark_sent_params(params: dict[str, Any], connection: Any, pg: bool) -> bool:
    if pg:
        sql = _sql(PG_MARK_SENT_WITH_TOUCHPOINT, True, mark_sent=MARK_SENT.strip())
        return _execute(sql, params, connection) == 1
    if _execute(MARK_SENT, params, connection) != 1:
        return False
    _execute(ADD_TOUCHPOINT, params, connection)
    return True


def mark_sent(record: Record, holder: str) -> bool:
    """Record a held touch as sent with its timeline entry; False when it is no longer ours."""
    connection = _driver()
    return _mark_sent(record, holder, connection, _is_postgres(connection))


def add_sent_touchpoint(
    *, prospect_id: int, at: datetime, summary: str, actor_id: int | None, data: dict[str, Any]
) -> None:
    """Append a "sent" entry to a prospect's timeline."""
    connection = _driver()
    pg = _is_postgres(connection)
    params = _touchpoint_params(pg, prospect_id, at, summary, actor_id, data)
    _execute(_sql(ADD_TOUCHPOINT, pg), params, connection)


def give_back_slot(*, mailbox_id: int, day_start: datetime) -> None:
    """Return a slot taken by start_sending for a message the server never received."""
    connection = _driver()
    pg = _is_postgres(connection)
    params = {"mid": mailbox_id, "day_start": _time(day_start, pg)}
    _execute(_sql(GIVE_BACK_SLOT, pg), params, connection)
