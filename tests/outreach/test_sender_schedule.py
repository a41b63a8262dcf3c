"""Days, windows and caps through the database and real send passes, in simulated time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from crm.models import Enrollment, TouchState
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.sequences import StepInput, add_angle, save_sequence_steps
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import (
    enroll_all,
    make_campaign,
    make_mailbox,
    make_prospects,
    send_pass,
    touches,
)

pytestmark = pytest.mark.postgres

NEW_YORK = ZoneInfo("America/New_York")


def _passes(app: Flask, start: datetime, end: datetime, every: timedelta) -> None:
    now = start
    while now <= end:
        send_pass(app, now)
        now += every


def test_cap_50_a_day_with_300_due_across_a_dst_change_sends_50_per_local_day_in_window(
    app: Flask, db: Any, smtp_server: SmtpTestServer
) -> None:
    """300 one-touch enrollments, cap 50, US DST starts on Sunday 2026-03-08."""
    campaign, target = make_campaign()
    make_mailbox(
        smtp_server,
        daily_cap=50,
        timezone="America/New_York",
        window_start="09:00",
        window_end="17:00",
        days="mon,tue,wed,thu,fri,sat,sun",
    )
    angle = add_angle("single touch")
    assert angle.sequence is not None
    save_sequence_steps(
        angle.sequence,
        [StepInput(0, "A resource for {{ prospect.domain }}", "Hi,\n{{ target.url }}\n")],
    )
    prospects = make_prospects(campaign, target, 300, timezone="America/New_York")
    start = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # Thursday, 07:00 in New York
    enroll_all(prospects, start, angle="single touch")
    db.session.expunge_all()  # a lean session, as in `crm send-due`

    _passes(app, start, datetime(2026, 3, 12, 12, 0, tzinfo=UTC), timedelta(minutes=30))

    sent = [t.sent_at for t in touches() if t.state == TouchState.SENT]
    assert len(sent) == 300 and len(smtp_server.messages) == 300
    local = [moment.astimezone(NEW_YORK) for moment in sent if moment is not None]
    per_day = Counter(moment.date() for moment in local)
    assert per_day == {date(2026, 3, day): 50 for day in range(5, 11)}
    assert all(time(9) <= moment.time() < time(17) for moment in local)
    # The DST day: the window opens at 09:00 EDT, which is 13:00 UTC, not 14:00.
    dst_day = sorted(m for m in sent if m is not None and m.astimezone(NEW_YORK).day == 8)
    assert dst_day[0].astimezone(UTC).hour == 13


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_follow_ups_go_out_on_their_days_in_the_contacts_window_until_stopped(
    app: Flask, db: Any, smtp_server: SmtpTestServer, zone: str
) -> None:
    tz = ZoneInfo(zone)
    campaign, target = make_campaign()
    make_mailbox(
        smtp_server,
        timezone="Europe/London",
        window_start="09:00",
        window_end="12:00",
        days="mon,tue,wed,thu,fri,sat,sun",
    )
    prospects = make_prospects(campaign, target, 2, timezone=zone)
    start = datetime(2026, 11, 18, 0, 30, tzinfo=UTC)
    carry_on, stopped = enroll_all(prospects, start).enrolled
    stopped_id, carry_on_id = stopped.id, carry_on.id

    _passes(app, start, start + timedelta(days=4), timedelta(hours=1))
    assert stop_enrollment(db.session.get(Enrollment, stopped_id), "manual")
    db.session.commit()
    _passes(app, start + timedelta(days=4), start + timedelta(days=15), timedelta(hours=1))

    done = db.session.get(Enrollment, carry_on_id)
    sent_at = [t.sent_at.astimezone(tz) for t in done.touches if t.sent_at is not None]
    assert len(sent_at) == 4
    first_day = sent_at[0].date()
    assert [(d.date() - first_day).days for d in sent_at] == [0, 3, 8, 13]
    assert all(time(9) <= d.time() < time(12) for d in sent_at), sent_at

    halted = db.session.get(Enrollment, stopped_id)
    assert [t.state for t in halted.touches] == [TouchState.SENT, TouchState.SENT] + [
        TouchState.CANCELLED
    ] * 2
    assert len(smtp_server.messages) == 6
