"""The live demo: real sends to the sandbox, prospects answering by IMAP, links verified.

The whole loop of `make run`, one pass of each job at a time: the sender to the
sandbox's SMTP server, the simulator appending answers to pymap's IMAP server,
the real poller, the demo specialist's outcomes and won links, and the link
checker reading the prospects' pages through the sandbox's proxy.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.demo import seed
from crm.demo.simulator import load_state, simulate_pass
from crm.links.checker import run_verify_pass
from crm.models import (
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    LinkState,
    StopReason,
    Suppression,
    Touch,
    WonLink,
    utcnow,
)
from crm.replies.poll_pass import PollSettings, run_poll_pass
from tests.outreach.factories import send_pass

pytestmark = pytest.mark.postgres
LOOP_SECONDS = 120


def _report(app: Flask) -> dict[str, int]:
    result = app.test_cli_runner().invoke(
        args=["report", seed.DEMO_CAMPAIGN, "--by", "angle", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    return {key: sum(int(r[key]) for r in rows) for key in ("contacted", "replied", "placed")}


def test_within_minutes_the_demo_contacts_hears_back_and_wins_a_verified_link(
    app: Flask, db: Any, live_demo: Path
) -> None:
    start = time.monotonic()
    totals: dict[str, int] = {}
    while time.monotonic() - start < LOOP_SECONDS:
        now = utcnow()
        send_pass(app, now)
        simulate_pass(live_demo, utcnow(), delay=timedelta(0))
        run_poll_pass(settings=PollSettings(connect_timeout=5, read_timeout=10))
        simulate_pass(live_demo, utcnow(), delay=timedelta(0))
        run_verify_pass()
        db.session.expire_all()
        totals = _report(app)
        live = db.session.scalar(select(WonLink).where(WonLink.state == LinkState.LIVE))
        colleague = db.session.scalar(
            select(InboundMessage).where(InboundMessage.from_address.like("desk@%"))
        )
        if totals["contacted"] and totals["replied"] and totals["placed"] and live and colleague:
            break
        time.sleep(0.5)
    assert totals["contacted"] > 0 and totals["replied"] > 0 and totals["placed"] > 0, totals
    link = db.session.scalar(select(WonLink))
    assert link is not None and link.state == LinkState.LIVE
    assert link.source_url.startswith("http://") and link.source_url.endswith("/resources/")

    kinds = {m.kind for m in db.session.scalars(select(InboundMessage))}
    assert {InboundKind.HUMAN_REPLY, InboundKind.OOO, InboundKind.BOUNCE_HARD,
            InboundKind.UNSUBSCRIBE_REQUEST} <= kinds  # fmt: skip
    stopped = {e.stop_reason for e in db.session.scalars(
        select(Enrollment).where(Enrollment.state == EnrollmentState.STOPPED))}  # fmt: skip
    assert {StopReason.BOUNCED, StopReason.REPLIED} <= stopped
    assert db.session.scalar(select(Suppression)) is not None, "the unsubscribe suppressed"
    answered = load_state(live_demo)["answered"]
    assert len(set(answered)) == len(answered), "each touch answered at most once"
    assert len(list((live_demo / "sent").glob("*.eml"))) >= 12
    # Follow-ups went out a sequence "day" later, and a colleague answered one of them.
    assert db.session.scalar(select(Touch).where(Touch.step == 2, Touch.sent_at.is_not(None)))
    assert colleague is not None and colleague.kind == InboundKind.HUMAN_REPLY
