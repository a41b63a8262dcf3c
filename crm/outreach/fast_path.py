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

Everything else in the outbox goes through SQLAlchemy (crm.outreach.outbox_sql).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from crm.extensions import db

_PARAM = re.compile(r"(?<!:):([a-z_]+)")

# Claimed -> sending, if the touch is still ours, its enrollment active, no human
# reply (from the prospect, or this enrollment when replies do not stop all of
# them) or hard bounce since the enrollment started, and the address and its
# domain not suppressed. {reply_scope} is filled per campaign setting.
TAKE_SENDING = """
UPDATE touches SET state = 'sending', attempts = :attempts, lease_until = :lease,
       subject = :subject, body = :body
WHERE id = :tid AND claimed_by = :holder AND state = 'claimed'
  AND EXISTS (SELECT 1 FROM enrollments WHERE id = :eid AND state = 'active')
  AND NOT EXISTS (
    SELECT 1 FROM inbound_messages
    WHERE prospect_id = :pid AND received_at >= :watch
      AND ((kind = 'human_reply' AND {reply_scope})
           OR (kind = 'bounce_hard' AND enrollment_id = :eid)))
  AND NOT EXISTS (SELECT 1 FROM suppressions WHERE value IN (:email, :domain))
"""

# The mailbox's counter for its local day, taken only under the cap and after
# the spacing: {rules} adds those conditions.
TAKE_SLOT = """
UPDATE mailboxes SET last_sent_at = :now, cap_day_start = :day_start,
       cap_day_sent = CASE WHEN cap_day_start = :day_start THEN cap_day_sent + 1 ELSE 1 END
WHERE id = :mid AND paused = {false}{rules}
"""

MARK_SENT = """
UPDATE touches SET state = 'sent', sent_at = :sent_at, smtp_reply = :reply, last_error = '',
       lease_until = NULL
WHERE id = :tid AND claimed_by = :holder AND state IN ('claimed', 'sending', 'uncertain')
"""

ADD_SENT_TOUCHPOINT = """
INSERT INTO touchpoints (prospect_id, at, kind, summary, actor_id, data)
VALUES (:prospect_id, :at, 'sent', :summary, :actor_id, :data)
"""


def _postgres() -> bool:
    return str(db.engine.dialect.name) == "postgresql"


@cache
def _sql(template: str, postgres: bool, **parts: str) -> str:
    text = template.format(**parts) if parts else template
    return _PARAM.sub(r"%(\1)s", text) if postgres else text


def _time(value: datetime, postgres: bool) -> Any:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: store aware UTC datetimes")
    utc = value.astimezone(UTC)
    return utc if postgres else utc.strftime("%Y-%m-%d %H:%M:%S.%f")


def _execute(sql: str, params: dict[str, Any]) -> int:
    """Run one statement in the session's transaction; return the rows it changed."""
    raw = db.session.connection().connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def take_sending(
    *,
    touch_id: int,
    holder: str,
    enrollment_id: int,
    prospect_id: int,
    watch_from: datetime,
    stop_all_on_reply: bool,
    email: str,
    domain: str,
    attempts: int,
    lease_until: datetime,
    subject: str,
    body: str,
) -> bool:
    """Compare-and-set one claimed touch to ``sending`` (see TAKE_SENDING)."""
    pg = _postgres()
    scope = "TRUE" if stop_all_on_reply else "enrollment_id = :eid"
    if not pg:
        scope = "1" if stop_all_on_reply else scope
    sql = _sql(TAKE_SENDING, pg, reply_scope=scope)
    return (
        _execute(
            sql,
            {
                "tid": touch_id,
                "holder": holder,
                "eid": enrollment_id,
                "pid": prospect_id,
                "watch": _time(watch_from, pg),
                "email": email,
                "domain": domain,
                "attempts": attempts,
                "lease": _time(lease_until, pg),
                "subject": subject,
                "body": body,
            },
        )
        == 1
    )


def take_slot(
    *,
    mailbox_id: int,
    now: datetime,
    day_start: datetime,
    daily_cap: int | None,
    ready_before: datetime | None,
) -> bool:
    """Compare-and-set the mailbox's daily counter and last send (see TAKE_SLOT)."""
    pg = _postgres()
    rules = ""
    params: dict[str, Any] = {
        "mid": mailbox_id,
        "now": _time(now, pg),
        "day_start": _time(day_start, pg),
    }
    if ready_before is not None:
        rules += " AND (last_sent_at IS NULL OR last_sent_at <= :ready_before)"
        params["ready_before"] = _time(ready_before, pg)
    if daily_cap is not None:
        if daily_cap <= 0:
            return False
        rules += (
            " AND (cap_day_start IS NULL OR cap_day_start <> :day_start OR cap_day_sent < :cap)"
        )
        params["cap"] = daily_cap
    sql = _sql(TAKE_SLOT, pg, false="FALSE" if pg else "0", rules=rules)
    return _execute(sql, params) == 1


def mark_sent(*, touch_id: int, holder: str, sent_at: datetime, reply: str) -> bool:
    """Record a held touch as sent; False when it is no longer ours."""
    pg = _postgres()
    params = {"tid": touch_id, "holder": holder, "sent_at": _time(sent_at, pg), "reply": reply}
    return _execute(_sql(MARK_SENT, pg), params) == 1


def add_sent_touchpoint(
    *, prospect_id: int, at: datetime, summary: str, actor_id: int | None, data: dict[str, Any]
) -> None:
    """Append a "sent" entry to a prospect's timeline."""
    pg = _postgres()
    if pg:
        from psycopg.types.json import Json

        payload: Any = Json(data)
    else:
        payload = json.dumps(data)
    _execute(
        _sql(ADD_SENT_TOUCHPOINT, pg),
        {
            "prospect_id": prospect_id,
            "at": _time(at, pg),
            "summary": summary,
            "actor_id": actor_id,
            "data": payload,
        },
    )
