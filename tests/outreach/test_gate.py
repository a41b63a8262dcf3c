"""The pre-send re-check: SEND, DEFER, CANCEL or BLOCK from plain facts."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.outreach.gate import (
    SEND,
    MailboxFacts,
    Reason,
    TouchFacts,
    Verdict,
    decide,
)
from crm.outreach.windows import SendingWindow, draw_jitter, local_day_bounds

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WORKDAY = SendingWindow.parse("09:00-17:00", "mon-fri")
# Wednesday 2026-11-18, 15:00 UTC = 10:00 in New York, inside the window.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def touch(**changes: object) -> TouchFacts:
    base = TouchFacts(
        due_at=NOW - timedelta(minutes=5),
        enrollment_state="active",
        watch_from=NOW - timedelta(days=3),
        contact_tz=NY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def counted(now: datetime, tz: tzinfo, **facts: Any) -> MailboxFacts:
    """Facts whose sent_today was counted for the local day containing now."""
    start, end = local_day_bounds(now, tz)
    return MailboxFacts(tz=tz, day_start=start, day_end=end, **facts)


def mailbox(**changes: object) -> MailboxFacts:
    base = counted(
        NOW, LONDON, window=WORKDAY, daily_cap=50, sent_today=0,
        min_spacing=timedelta(seconds=90), last_sent_at=NOW - timedelta(minutes=10),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_everything_in_order_means_send() -> None:
    assert decide(touch(), mailbox(), NOW) == SEND


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"enrollment_state": "stopped"}, Reason.ENROLLMENT_STOPPED),
        ({"enrollment_state": "completed"}, Reason.ENROLLMENT_STOPPED),
        ({"last_reply_at": NOW - timedelta(minutes=1)}, Reason.REPLIED),
        ({"last_hard_bounce_at": NOW - timedelta(hours=1)}, Reason.BOUNCED),
        ({"address_suppressed": True}, Reason.ADDRESS_SUPPRESSED),
        ({"domain_suppressed": True}, Reason.DOMAIN_SUPPRESSED),
    ],
)
def test_stop_conditions_cancel_the_touch(changes: dict[str, object], reason: Reason) -> None:
    decision = decide(touch(**changes), mailbox(), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.CANCEL, reason)
    assert decision.until is None and decision.detail


def test_a_reply_recorded_between_claim_and_send_cancels_the_touch() -> None:
    claimed_at = NOW - timedelta(seconds=2)
    facts = touch(last_reply_at=claimed_at + timedelta(seconds=1))
    assert decide(facts, mailbox(), NOW).verdict is Verdict.CANCEL


def test_a_reply_from_before_the_enrollment_does_not_cancel() -> None:
    facts = touch(last_reply_at=NOW - timedelta(days=30))
    assert decide(facts, mailbox(), NOW) == SEND


def test_cancel_wins_over_timing_and_block() -> None:
    facts = touch(address_suppressed=True, render_problem="missing merge field")
    decision = decide(facts, mailbox(paused=True), datetime(2026, 11, 21, 3, tzinfo=UTC))
    assert decision.verdict is Verdict.CANCEL


@pytest.mark.parametrize(
    ("touch_changes", "mailbox_changes", "reason", "detail"),
    [
        ({"enrollment_state": "paused"}, {}, Reason.ENROLLMENT_PAUSED, "paused"),
        ({}, {"paused": True, "pause_reason": "535 5.7.8 bad login"}, Reason.MAILBOX_PAUSED,
         "535 5.7.8 bad login"),
        ({"render_problem": 'missing merge field "contact.first_name"'}, {}, Reason.TEMPLATE,
         'missing merge field "contact.first_name"'),
        ({}, {"daily_cap": 0}, Reason.NO_CAP, "cap is 0"),
    ],
)  # fmt: skip
def test_hold_conditions_block_with_a_reason_to_show(
    touch_changes: dict[str, object],
    mailbox_changes: dict[str, object],
    reason: Reason,
    detail: str,
) -> None:
    decision = decide(touch(**touch_changes), mailbox(**mailbox_changes), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.BLOCK, reason)
    assert detail in decision.detail


def test_not_due_yet_defers_to_the_due_time() -> None:
    due = NOW + timedelta(hours=1)
    decision = decide(touch(due_at=due), mailbox(), NOW)
    assert (decision.verdict, decision.reason, decision.until) == (
        Verdict.DEFER,
        Reason.NOT_DUE,
        due,
    )


def test_outside_the_window_in_the_contacts_timezone_defers_to_the_next_slot() -> None:
    # 22:30 UTC is 17:30 in New York: after the contact's window.
    late = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)
    decision = decide(touch(), mailbox(), late)
    assert (decision.verdict, decision.reason) == (Verdict.DEFER, Reason.OUTSIDE_WINDOW)
    assert decision.until == datetime(2026, 11, 19, 9, 0, tzinfo=NY)


def test_daily_cap_counts_the_mailbox_day_and_defers_to_the_next_local_day() -> None:
    decision = decide(touch(), mailbox(sent_today=50), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.DEFER, Reason.DAILY_CAP)
    assert decision.mailbox_until == datetime(2026, 11, 19, 0, 0, tzinfo=LONDON)
    # Midnight in London is 19:00 in New York: outside the window, so 09:00 NY.
    assert decision.until == datetime(2026, 11, 19, 9, 0, tzinfo=NY)


def test_spacing_defers_with_jitter() -> None:
    last = NOW - timedelta(seconds=30)
    jitter = draw_jitter(timedelta(seconds=20), random.Random(3))
    decision = decide(touch(), mailbox(last_sent_at=last), NOW, jitter=jitter)
    assert (decision.verdict, decision.reason) == (Verdict.DEFER, Reason.SPACING)
    assert decision.until == last + timedelta(seconds=90) + jitter
    assert decide(touch(), mailbox(last_sent_at=last), decision.until or NOW) == SEND


def test_follow_up_waits_for_the_previous_step_and_its_gap() -> None:
    pending = decide(touch(previous_step_pending=True), mailbox(), NOW)
    assert (pending.verdict, pending.reason) == (Verdict.DEFER, Reason.PREVIOUS_STEP)
    assert pending.until is not None and pending.until > NOW
    not_before = NOW + timedelta(days=2)
    decision = decide(touch(not_before=not_before), mailbox(), NOW)
    assert (decision.reason, decision.until) == (Reason.PREVIOUS_STEP, not_before)


def test_after_send_counts_into_the_mailbox_day_and_starts_a_new_day_after_midnight() -> None:
    facts = mailbox(sent_today=49)
    after = facts.after_send(NOW)
    assert (after.sent_today, after.last_sent_at) == (50, NOW)
    tomorrow = datetime(2026, 11, 19, 0, 30, tzinfo=LONDON)
    next_day = after.after_send(tomorrow)
    assert next_day.sent_today == 1
    assert next_day.day_start == datetime(2026, 11, 19, 0, 0, tzinfo=LONDON)


def test_cap_and_spacing_hold_the_whole_mailbox_but_the_window_does_not() -> None:
    assert decide(touch(), mailbox(sent_today=50), NOW).holds_mailbox
    assert decide(touch(), mailbox(last_sent_at=NOW), NOW).holds_mailbox
    late = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)
    assert not decide(touch(), mailbox(), late).holds_mailbox


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(touch(), mailbox(), datetime(2026, 11, 18, 15))


def test_cap_50_a_day_with_300_due_across_a_dst_change_sends_50_per_local_day_in_window() -> None:
    """A simulated sender: 300 touches due at once, cap 50 a day, US DST on 2026-03-08.

    The mailbox counts its day in London; the window is read in New York, whose
    offset to London changes in the middle of the run.
    """
    rng = random.Random(42)
    start = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # Wednesday
    every_day = SendingWindow.parse("09:00-17:00", "mon-sun")
    box = counted(
        start, LONDON, window=every_day, daily_cap=50, sent_today=0,
        min_spacing=timedelta(seconds=60),
    )  # fmt: skip
    due = [start] * 300
    sent: list[datetime] = []
    now = start
    mailbox_free_at = start
    decisions = 0
    while len(sent) < 300:
        index = min(range(len(due)), key=lambda i: (due[i], i))
        now = max(now, due[index], mailbox_free_at)
        facts = TouchFacts(due_at=due[index], enrollment_state="active", watch_from=start,
                           contact_tz=NY)  # fmt: skip
        decision = decide(facts, box, now, jitter=draw_jitter(timedelta(seconds=30), rng))
        decisions += 1
        if decision.verdict is Verdict.SEND:
            sent.append(now)
            box = box.after_send(now)
            due[index] = datetime.max.replace(tzinfo=UTC)
            now += timedelta(seconds=1)  # the SMTP conversation
        else:
            assert decision.verdict is Verdict.DEFER and decision.until is not None
            assert decision.until > now
            if decision.holds_mailbox:  # cap or spacing: the whole mailbox waits
                assert decision.mailbox_until is not None
                mailbox_free_at = decision.mailbox_until
            else:
                due[index] = decision.until
    assert decisions < 2000
    per_day = Counter(s.astimezone(LONDON).date() for s in sent)
    assert set(per_day.values()) == {50}
    assert len(per_day) == 6
    assert all(every_day.contains(s, NY) for s in sent)
    assert {s.astimezone(UTC).hour for s in sent} >= {13, 14}  # before and after the change
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= timedelta(seconds=60)
