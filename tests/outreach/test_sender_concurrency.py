"""Two `crm send-due` processes at once over the same due touches: each goes out exactly once.

On PostgreSQL (2,000 touches) the processes claim with SKIP LOCKED; the SQLite
variant (300 touches) exercises the compare-and-set claim and the writers' lock.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.models import Touch, TouchState, utcnow
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import (
    SMTP_LOGIN,
    bulk_due_touches,
    make_campaign,
    make_mailbox,
    midday_zone,
    send_due_process,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_send_due_processes_deliver_every_touch_exactly_once(
    app: Flask, db: Any, backend: str, smtp_server_factory: Any
) -> None:
    count = 2000 if backend == "postgres" else 300
    server: SmtpTestServer = smtp_server_factory(auth=SMTP_LOGIN)
    now = utcnow()
    campaign, target = make_campaign()
    zone = midday_zone(now)
    mailbox = make_mailbox(server, timezone=zone, window_start="06:00", window_end="18:00")
    expected = bulk_due_touches(campaign, target, mailbox, count, now)

    children = [send_due_process(app, CRM_SEND_BATCH="25") for _ in range(2)]
    results = [child.communicate(timeout=600) for child in children]

    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
    counts = [json.loads(out) for out, _ in results]
    assert sum(c["sent"] for c in counts) == count, counts
    assert all(c["sent"] > 0 for c in counts), f"both processes should share the work: {counts}"
    assert all(c["uncertain"] == 0 and c["failed"] == 0 for c in counts)
    received = Counter(server.message_ids())
    assert set(received) == set(expected)
    assert max(received.values()) == 1, "a touch was delivered twice"
    sent = db.session.scalar(
        select(func.count()).where(Touch.step == 1, Touch.state == TouchState.SENT)
    )
    assert sent == count
