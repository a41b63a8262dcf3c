"""What a matched message changes: each kind's effects, decided from plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.mail.classify import BounceInfo, Classification
from crm.replies.effect_rules import Effects, decide_effects, suggest_action
from crm.replies.matching import Match
from tests.replies.fakes import touch

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
FIRST = touch("<t1@taskorbit.com>", "sarah@blog.example", SENT, number=1)
MATCH = Match(FIRST, "in_reply_to", "In-Reply-To names our message <t1@taskorbit.com>")


def verdict(kind: str, **extra: object) -> Classification:
    return Classification(kind, ["test"], **extra)  # type: ignore[arg-type]


def effects(kind: str, match: Match | None = MATCH, **extra: object) -> Effects:
    return decide_effects(
        verdict(kind, **extra), match, sender="sarah@blog.example",
        stop_other_enrollments=True, next_touch_due=datetime(2026, 11, 9, 14, 30, tzinfo=UTC),
        now=NOW,
    )  # fmt: skip


def test_human_reply_stops_this_and_the_prospects_other_sequences() -> None:
    result = effects("human_reply")
    assert result.stop_enrollment and result.stop_reason == "replied"
    assert result.stop_other_enrollments and result.prospect_status == "replied"
    assert result.notify_specialist


def test_other_sequences_keep_going_when_the_campaign_says_so() -> None:
    result = decide_effects(verdict("human_reply"), MATCH, sender="s@x.example",
                            stop_other_enrollments=False, next_touch_due=None, now=NOW)  # fmt: skip
    assert result.stop_enrollment and not result.stop_other_enrollments


def test_hard_bounce_suppresses_the_address_our_touch_went_to_not_the_reports_claim() -> None:
    result = decide_effects(
        verdict("bounce_hard", bounce=BounceInfo("gone@blog.example", "5.1.1", hard=True)),
        MATCH, sender="mailer-daemon@mx.example", stop_other_enrollments=True,
        next_touch_due=None, now=NOW,
    )  # fmt: skip
    assert result.stop_enrollment and result.stop_reason == "bounced"
    assert result.suppress == "sarah@blog.example" and result.mark_contact == "bounced"
    assert not result.stop_other_enrollments


def test_soft_bounce_only_counts() -> None:
    result = effects("bounce_soft", bounce=BounceInfo("x@blog.example", "4.2.2", hard=False))
    assert result.count_soft_bounce and not result.stop_enrollment
    assert result.suppress is None


def test_unsubscribe_suppresses_the_sender_and_stops() -> None:
    result = effects("unsubscribe_request")
    assert result.suppress == "sarah@blog.example"
    assert result.stop_enrollment and result.stop_reason == "unsubscribed"


def test_unmatched_unsubscribe_changes_nothing_and_waits_in_triage() -> None:
    result = effects("unsubscribe_request", match=None)
    assert result.triage and result.suppress is None
    assert not result.stop_enrollment


def test_unsubscribe_from_a_colleague_stops_but_suppresses_nobody_by_itself() -> None:
    result = decide_effects(verdict("unsubscribe_request"), MATCH, sender="desk@blog.example",
                            stop_other_enrollments=False, next_touch_due=None, now=NOW)  # fmt: skip
    assert result.stop_enrollment and result.suppress is None
    assert "waits for a person" in result.reasons[0]


@pytest.mark.parametrize(
    ("kind", "bounce"),
    [("bounce_hard", BounceInfo("victim@x.example", "5.1.1", hard=True)),
     ("unsubscribe_request", None), ("human_reply", None)],
)  # fmt: skip
def test_nothing_unmatched_changes_anything(kind: str, bounce: BounceInfo | None) -> None:
    result = effects(kind, match=None, bounce=bounce)
    assert result == Effects(triage=True, reasons=result.reasons)


def test_out_of_office_moves_the_next_touch_to_the_working_day_after_the_return() -> None:
    result = effects("ooo", return_date=date(2026, 12, 4))  # a Friday
    moved = result.reschedule_next_touch_to
    assert moved == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # Monday, same time of day


def test_out_of_office_never_moves_a_touch_earlier_or_without_a_date() -> None:
    assert effects("ooo", return_date=date(2026, 11, 3)).reschedule_next_touch_to is None
    assert effects("ooo").reschedule_next_touch_to is None


@pytest.mark.parametrize("kind", ["auto_reply", "unrelated"])
def test_auto_replies_change_nothing(kind: str) -> None:
    result = effects(kind)
    assert not result.stop_enrollment and result.suppress is None
    assert result.reasons


def test_anything_unmatched_waits_in_triage() -> None:
    assert effects("human_reply", match=None).triage
    assert not effects("human_reply").triage


def test_suggested_action_for_unmatched_mail_is_an_address_never_a_domain() -> None:
    bounce = suggest_action("bounce_hard", matched=False, sender="mailer-daemon@mx.example",
                            touch_address=None, bounce_recipient="gone@x.example")  # fmt: skip
    assert bounce is not None and (bounce.action, bounce.address) == ("suppress", "gone@x.example")
    domain = suggest_action("bounce_hard", matched=False, sender="mailer-daemon@mx.example",
                            touch_address=None, bounce_recipient="victim.com")  # fmt: skip
    assert domain is not None and domain.action == "assign" and domain.address is None
    stranger = suggest_action("unsubscribe_request", matched=False, sender="Who@Else.example",
                              touch_address=None, bounce_recipient=None)  # fmt: skip
    assert stranger is not None and stranger.address == "who@else.example"
    done = suggest_action("unsubscribe_request", matched=True, sender="sarah@blog.example",
                          touch_address="sarah@blog.example", bounce_recipient=None)  # fmt: skip
    assert done is None
    spam = suggest_action("unrelated", matched=False, sender="x@y.example", touch_address=None,
                          bounce_recipient=None)  # fmt: skip
    assert spam is not None and spam.action == "dismiss"
