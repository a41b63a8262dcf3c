"""Inbound mail is untrusted (issue 10, DESIGN §6): what a received message may change.

Each case is a real-shaped message stored the way the poller stores it. Forged and
look-alike messages change nothing and wait in triage; their genuine counterparts
stop the right sequence and suppress only the address our touch went to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.models import (
    EnrollmentState,
    InboundKind,
    OneOffMessage,
    Suppression,
    Touch,
    TouchState,
    utcnow,
)
from crm.outreach.one_offs import reply_to_inbound
from tests.outreach.factories import OUR_ADDRESS, World, enroll_and_send_first, make_world
from tests.replies.factories import deliver
from tests.replies.forged import (
    EDITOR_A,
    A,
    B,
    body_only_message_id,
    colleague_unsubscribe,
    correspondent_says_mailbox_full,
    dsn_report,
    forged_dsn_bare_domain,
    forged_dsn_for_an_address_we_never_wrote_to,
    forged_unsubscribe_from_a_stranger,
    forged_x_failed_recipients,
    french_unsubscribe,
    genuine_dsn,
    genuine_dsn_naming_another_recipient,
    genuine_exim_text_bounce,
    genuine_reply_from_the_editor,
    genuine_unsubscribe,
    phishing_from_a_postmaster_lookalike,
    phishing_quota_notice,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(app: Flask) -> World:
    built = make_world(None, None, [A, B])
    enroll_and_send_first(app, built, transport="memory")
    return built


@dataclass(frozen=True)
class Case:
    build: Callable[[World], bytes]
    kind: str
    match: str  # the match method, or "" for none
    suppressed: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)  # prospects whose sequence stops
    suggestion: str | None = None  # the address a person may confirm suppressing


CASES = [
    Case(forged_x_failed_recipients, "unrelated", ""),
    Case(forged_dsn_bare_domain, "bounce_hard", ""),
    Case(forged_dsn_for_an_address_we_never_wrote_to, "bounce_hard", "",
         suggestion=f"ceo@{A}"),
    Case(forged_unsubscribe_from_a_stranger, "unsubscribe_request", "",
         suggestion="jo@somewhere-else.net"),
    Case(phishing_quota_notice, "unrelated", ""),
    Case(phishing_from_a_postmaster_lookalike, "unrelated", ""),
    Case(body_only_message_id, "unrelated", ""),
    Case(genuine_dsn, "bounce_hard", "bounce_original", {EDITOR_A}, {A}),
    Case(genuine_dsn_naming_another_recipient, "bounce_hard", "bounce_original", {EDITOR_A}, {A}),
    Case(genuine_exim_text_bounce, "bounce_hard", "bounce_recipient", {EDITOR_A}, {A}),
    Case(genuine_unsubscribe, "unsubscribe_request", "in_reply_to", {EDITOR_A}, {A}),
    Case(correspondent_says_mailbox_full, "human_reply", "sender", set(), {A}),
    Case(french_unsubscribe, "unsubscribe_request", "in_reply_to", {EDITOR_A}, {A}),
    Case(colleague_unsubscribe, "unsubscribe_request", "domain", set(), {A},
         suggestion=f"desk@{A}"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.build.__name__ for c in CASES])
def test_inbound_mail_changes_only_what_it_proves_we_sent(world: World, case: Case) -> None:
    from crm.replies.triage import suggested_action

    message = deliver(world.mailbox, case.build(world))

    assert message is not None
    assert message.kind.value == case.kind, message.evidence
    assert message.match_method == case.match, message.match_detail
    suppressed = set(db.session.scalars(select(Suppression.value)))
    assert suppressed == case.suppressed, message.effects
    stopped = {d for d in (A, B) if world.enrollment(d).state == EnrollmentState.STOPPED}
    assert stopped == case.stopped
    if not case.match:
        assert message.prospect_id is None and message.effects_applied_at is not None
        assert "nothing changes" in message.effects[0]
    action = suggested_action(message)
    assert (action.address if action else None) == case.suggestion


def test_a_body_only_message_id_is_neither_a_match_nor_an_auto_reply(world: World) -> None:
    message = deliver(world.mailbox, body_only_message_id(world))
    assert message is not None
    assert message.kind.value not in ("auto_reply", "ooo") and message.matched_touch_id is None
    touches = db.session.scalars(select(Touch).where(Touch.step > 1)).all()
    assert all(t.sent_at is None and t.state.value == "scheduled" for t in touches)


def test_genuine_bounce_never_suppresses_a_domain(world: World, app: Flask) -> None:
    returned = f"From: {OUR_ADDRESS}\r\nMessage-ID: {world.touch(A).message_id}"
    raw = dsn_report("MAILER-DAEMON@mx.example", A, "<dsn3@mx.example>", returned=returned)
    message = deliver(world.mailbox, raw)
    assert message is not None and message.match_method == "bounce_original"
    values: Any = set(db.session.scalars(select(Suppression.value)))
    assert values == {EDITOR_A}  # the address our touch went to, not "pmtoolsreview.com"


def test_an_answer_to_our_reply_from_the_app_is_matched_to_the_thread(world: World) -> None:
    first = deliver(world.mailbox, genuine_reply_from_the_editor(world))
    assert first is not None
    ours = reply_to_inbound(first, "Which anchor text would suit you?", None, utcnow())
    ours.state, ours.sent_at = TouchState.SENT, utcnow()
    db.session.commit()
    # Answered from a private address we never wrote to, threaded under our reply only.
    raw = (
        f"From: Sarah <sarah.editor@gmail.com>\r\nTo: {OUR_ADDRESS}\r\n"
        f"Subject: Re: Your Gantt chart round-up\r\nDate: Tue, 3 Nov 2026 12:00:00 +0000\r\n"
        f"Message-ID: <private@mail.gmail.com>\r\nIn-Reply-To: {ours.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe brand name is fine.\r\n"
    ).encode()

    answer = deliver(world.mailbox, raw, uid=2)

    assert answer is not None and answer.kind.value == "human_reply"
    assert answer.match_method == "in_reply_to" and ours.message_id in answer.match_detail
    assert answer.prospect_id == world.prospect(A).id
    assert answer.matched_touch_id == world.touch(A).id
    assert db.session.scalar(select(OneOffMessage.id)) == ours.id


def test_a_bounce_of_our_reply_to_a_colleague_never_suppresses_the_touchs_address(
    world: World,
) -> None:
    colleague = deliver(world.mailbox, colleague_unsubscribe(world))
    assert colleague is not None and colleague.match_method == "domain"
    colleague.kind = InboundKind.HUMAN_REPLY  # a colleague's question we answer from the app
    ours = reply_to_inbound(colleague, "Happy to help.", None, utcnow())
    ours.state, ours.sent_at = TouchState.SENT, utcnow()
    db.session.commit()
    returned = f"From: {OUR_ADDRESS}\r\nTo: desk@{A}\r\nMessage-ID: {ours.message_id}"

    bounce = deliver(
        world.mailbox,
        dsn_report("MAILER-DAEMON@mx.example", f"desk@{A}", "<desk-dsn@mx>", returned=returned),
        uid=2,
    )

    assert bounce is not None and bounce.kind.value == "bounce_hard"
    assert EDITOR_A not in set(db.session.scalars(select(Suppression.value)))
