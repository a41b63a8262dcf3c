"""Kill a real `crm send-due` process (SIGKILL) at each point of the send path, many times.

Whatever the point, no Message-ID reaches the server twice and no touch is lost
or stuck: after the leases expire every touch is sent, except that a kill
inside DATA or after the server's 250 may leave that one touch uncertain,
which is never sent again on its own.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.models import Touch, TouchState, utcnow
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import (
    enroll_all,
    make_campaign,
    make_mailbox,
    make_prospects,
    midday_zone,
    send_due_process,
    send_pass,
)
from tests.outreach.faulty_send_due import POINTS

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TOUCHES = 5
LEASE = timedelta(minutes=10)
# Killed inside or after DATA, the touch may have been delivered: uncertain is honest.
MAY_BE_UNCERTAIN = {"after-sending", "mid-data", "after-accepted"}


@pytest.mark.parametrize("nth", [1, 2, 3])
@pytest.mark.parametrize("point", POINTS)
def test_a_sender_killed_at_any_point_sends_nothing_twice_and_loses_nothing(
    app: Flask, db: Any, server: SmtpTestServer, point: str, nth: int
) -> None:
    start = utcnow()
    campaign, target = make_campaign()
    zone = midday_zone(start)
    make_mailbox(server, timezone=zone, window_start="06:00", window_end="18:00")
    enroll_all(make_prospects(campaign, target, TOUCHES, timezone=zone), start)
    firsts = {t.id: t.message_id for t in db.session.scalars(select(Touch).where(Touch.step == 1))}
    db.session.commit()

    # Batches of 2: a kill after a claim leaves claimed touches behind, too.
    child = send_due_process(app, fault=f"{point}:{nth}", CRM_SEND_BATCH="2")
    out, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, f"{point}:{nth} did not fire: {out} {err}"

    later = start + LEASE + timedelta(minutes=1)
    for minutes in range(3):  # the leases expire, then whatever is left goes out
        send_pass(app, later + timedelta(minutes=minutes))

    received = Counter(m for m in server.message_ids() if m in firsts.values())
    assert all(n == 1 for n in received.values()), f"sent twice: {received}"
    states = dict(db.session.execute(select(Touch.id, Touch.state).where(Touch.step == 1)).all())
    assert set(states.values()) <= {TouchState.SENT, TouchState.UNCERTAIN}, states
    uncertain = [i for i, s in states.items() if s == TouchState.UNCERTAIN]
    if point in MAY_BE_UNCERTAIN:
        assert len(uncertain) == 1, states
    else:
        assert uncertain == [], states
    for touch_id, state in states.items():
        delivered = received[firsts[touch_id]] == 1
        if state == TouchState.SENT:
            assert delivered, f"touch {touch_id} is sent but never arrived"
        elif point == "after-accepted":
            assert delivered, "the server took it before the sender died"
        else:
            assert not delivered, "killed before the final dot: the server dropped it"

    # Uncertain touches stay uncertain, pass after pass.
    before = len(server.messages)
    for hours in (1, 5, 30):
        send_pass(app, later + timedelta(hours=hours))
    assert all(db.session.get(Touch, i).state == TouchState.UNCERTAIN for i in uncertain)
    assert [m for m in server.message_ids()[before:] if m in firsts.values()] == []


def test_an_unkilled_send_due_process_reports_its_counts(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    start = utcnow()
    campaign, target = make_campaign()
    zone = midday_zone(start)
    make_mailbox(server, timezone=zone, window_start="06:00", window_end="18:00")
    enroll_all(make_prospects(campaign, target, 3, timezone=zone), start)
    db.session.commit()
    child = send_due_process(app)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert json.loads(out)["sent"] == 3 and len(server.messages) == 3
