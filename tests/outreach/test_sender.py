"""The send pass against a real SMTP server (aiosmtpd): headers, threading, SMTP answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.core.suppression import is_suppressed
from crm.extensions import db
from crm.mail.unsubscribe import read_unsubscribe_token
from crm.models import (
    Contact,
    Enrollment,
    InboundKind,
    InboundMessage,
    Mailbox,
    Prospect,
    ProspectStatus,
    Security,
    SequenceStep,
    Suppression,
    SuppressionKind,
    Touch,
    Touchpoint,
    TouchState,
)
from crm.outreach import outbox
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.touch_actions import mark_uncertain_sent, requeue_uncertain_touch
from tests.fixtures.smtp import DROP, SmtpTestServer
from tests.outreach.factories import (
    SMTP_LOGIN,
    enroll_all,
    enrolled_campaign,
    make_campaign,
    make_mailbox,
    make_prospects,
    send_pass,
    touches,
)

pytestmark = pytest.mark.postgres

# Wednesday 2026-11-18, 15:00 UTC.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Any, server: SmtpTestServer) -> dict[str, Any]:
    return enrolled_campaign(server, 3, NOW)


def _touch(enrollment: Enrollment, step: int) -> Touch:
    return db.session.scalars(
        select(Touch).where(Touch.enrollment_id == enrollment.id, Touch.step == step)
    ).one()


def test_touch_one_arrives_with_correct_headers(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    counts = send_pass(app, NOW)

    assert counts["sent"] == 3
    assert server.connections == 1, "one connection per mailbox per pass"
    first = _touch(world["e"][0], 1)
    received = next(m for m in server.messages if m.message_id == first.message_id)
    message = received.message
    assert message["Date"].datetime == NOW
    assert first.message_id.endswith("@sample-site.example>")
    assert str(message["From"]) == "Ana Lopez <outreach@sample-site.example>"
    assert str(message["To"]) == "Sam Lee0 <editor@site0.example>"
    assert str(message["Subject"]) == 'A resource for "The 12 best Gantt templates"'
    assert message.get_content_type() == "text/plain"
    assert "https://site0.example/best-gantt-templates" in message.get_content()
    assert "{{" not in message.get_content()
    unsubscribe = str(message["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://127.0.0.1:5000/u/") and unsubscribe.endswith(">")
    token = unsubscribe[1:-1].rsplit("/", 1)[1]
    assert read_unsubscribe_token("test-secret-key", token).email == "editor@site0.example"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert message["In-Reply-To"] is None
    assert received.rcpt_tos == ["editor@site0.example"]
    assert received.mail_from == "outreach@sample-site.example"

    assert first.state == TouchState.SENT and first.sent_at == NOW
    assert first.subject == 'A resource for "The 12 best Gantt templates"'
    prospect = world["prospects"][0]
    assert prospect.status == ProspectStatus.IN_SEQUENCE
    sent = [t for t in prospect.touchpoints if t.kind.value == "sent"]
    assert len(sent) == 1 and sent[0].data["message_id"] == first.message_id


def test_follow_ups_thread_under_the_first_touch(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    enrollment = world["e"][0]
    send_pass(app, NOW)
    for day in (3, 8, 13):
        send_pass(app, NOW + timedelta(days=day, hours=1))
    ids = [_touch(enrollment, step).message_id for step in (1, 2, 3, 4)]
    mine = {m.message_id: m.message for m in server.messages if m.message_id in ids}
    assert len(mine) == 4
    for step in (2, 3, 4):
        message = mine[ids[step - 1]]
        assert str(message["Subject"]) == 'Re: A resource for "The 12 best Gantt templates"'
        assert str(message["In-Reply-To"]) == ids[step - 2]
        assert str(message["References"]).split() == ids[: step - 1]
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert db.session.get(Enrollment, enrollment.id).state.value == "completed"


def test_a_temporary_failure_is_retried_with_backoff_and_the_same_message_id(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    server.script.rcpt("editor@site0.example", "451 4.3.0 try again later", times=3)
    touch_id, message_id = (lambda t: (t.id, t.message_id))(_touch(world["e"][0], 1))

    now = NOW
    for attempt, wait in ((1, 5), (2, 15), (3, 60)):
        counts = send_pass(app, now)
        touch = db.session.get(Touch, touch_id)
        assert touch.state == TouchState.RETRY_WAIT, touch.last_error
        assert touch.attempts == attempt
        assert touch.due_at == now + timedelta(minutes=wait)
        assert "451 4.3.0" in touch.last_error
        assert counts["retry"] == 1
        assert send_pass(app, touch.due_at - timedelta(seconds=1))["sent"] == 0
        now = touch.due_at

    assert send_pass(app, now)["sent"] == 1
    touch = db.session.get(Touch, touch_id)
    assert touch.state == TouchState.SENT and touch.attempts == 4
    assert server.message_ids().count(message_id) == 1


def test_a_550_5_1_1_suppresses_the_address_after_one_try(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    address = "editor@site1.example"
    server.script.rcpt(address, "550 5.1.1 <editor@site1.example>: no such user", forever=True)
    counts = send_pass(app, NOW)

    assert counts["bounced"] == 1 and counts["sent"] == 2
    enrollment = db.session.get(Enrollment, world["e"][1].id)
    assert enrollment.state.value == "stopped" and enrollment.stop_reason.value == "bounced"
    first = _touch(enrollment, 1)
    assert first.state == TouchState.FAILED and "5.1.1" in first.last_error
    assert [t.state for t in enrollment.touches[1:]] == [TouchState.CANCELLED] * 3
    assert is_suppressed(address)
    assert db.session.scalars(select(Contact).where(Contact.email == address)).one().bounced_at
    assert [t.kind.value for t in enrollment.prospect.touchpoints].count("bounce") == 1

    for day in range(1, 15):
        send_pass(app, NOW + timedelta(days=day))
    assert [s for s in server.script.seen if s == ("rcpt", address)] == [("rcpt", address)]


def test_a_refusal_whose_text_holds_a_nul_is_recorded_and_the_pass_goes_on(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    # PostgreSQL cannot store a NUL: the refusal's note would fail the pass after sending.
    address = "editor@site1.example"
    server.script.rcpt(address, "550 5.1.1 no such\x00 user", forever=True)
    counts = send_pass(app, NOW)

    assert counts["bounced"] == 1 and counts["sent"] == 2
    first = _touch(db.session.get(Enrollment, world["e"][1].id), 1)
    assert first.state == TouchState.FAILED and "no such\ufffd user" in first.last_error


def test_a_policy_refusal_pauses_the_mailbox_and_suppresses_nobody(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    server.script.mail("550 5.7.1 sender address rejected by policy")
    counts = send_pass(app, NOW)

    assert counts["mailboxes_paused"] == 1 and counts["sent"] == 0
    mailbox = db.session.get(Mailbox, world["mailbox"].id)
    assert mailbox.paused and "5.7.1" in mailbox.paused_reason
    assert all(t.state == TouchState.SCHEDULED for t in touches() if t.step == 1)
    assert not any(is_suppressed(c.email) for p in world["prospects"] for c in p.contacts)
    assert send_pass(app, NOW + timedelta(minutes=5))["sent"] == 0, "paused: nothing goes"

    mailbox.paused, mailbox.paused_reason = False, ""
    db.session.commit()
    assert send_pass(app, NOW + timedelta(minutes=10))["sent"] == 3


def test_a_reply_recorded_between_claim_and_send_stops_the_touch(
    app: Flask, world: dict[str, Any], server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replied = world["e"][0]
    claim = outbox.claim_due

    def claim_then_reply(*args: Any, **kwargs: Any) -> list[int]:
        ids = claim(*args, **kwargs)
        if ids:
            _record_reply(replied, NOW)
        return ids

    monkeypatch.setattr(outbox, "claim_due", claim_then_reply)
    counts = send_pass(app, NOW)

    assert counts["sent"] == 2 and counts["cancelled"] == 1
    assert _touch(replied, 1).message_id not in server.message_ids()
    enrollment = db.session.get(Enrollment, replied.id)
    assert enrollment.state.value == "stopped" and enrollment.stop_reason.value == "replied"
    assert {t.state for t in enrollment.touches} == {TouchState.CANCELLED}


def test_a_reply_recorded_while_the_envelope_is_sent_stops_the_touch_inside_data(
    app: Flask, world: dict[str, Any], server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replied = world["e"][1]
    begin = outbox.begin_sending

    def reply_then_begin(check: outbox.TouchToSend, *args: Any, **kwargs: Any) -> str | None:
        if check.enrollment_id == replied.id:
            _record_reply(replied, NOW, separately=True)
        return begin(check, *args, **kwargs)

    monkeypatch.setattr(outbox, "begin_sending", reply_then_begin)
    assert send_pass(app, NOW)["sent"] == 2
    monkeypatch.undo()
    assert _touch(replied, 1).message_id not in server.message_ids()

    counts = send_pass(app, NOW + timedelta(minutes=1))
    assert counts["cancelled"] == 1 and counts["sent"] == 0
    assert db.session.get(Enrollment, replied.id).stop_reason.value == "replied"
    assert _touch(replied, 1).message_id not in server.message_ids()


def test_a_domain_suppressed_after_the_batch_was_read_stops_the_touch_at_the_compare_and_set(
    app: Flask, world: dict[str, Any], server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass reads a batch's suppressions once; begin_sending checks them again."""
    late = world["e"][2]
    begin = outbox.begin_sending

    def suppress_then_begin(check: outbox.TouchToSend, *args: Any, **kwargs: Any) -> str | None:
        if check.enrollment_id == late.id:  # a person adds it while the pass runs
            with db.engine.begin() as conn:
                values = dict(kind=SuppressionKind.DOMAIN, value="site2.example", reason="no")
                conn.execute(Suppression.__table__.insert().values(**values))
        return begin(check, *args, **kwargs)

    monkeypatch.setattr(outbox, "begin_sending", suppress_then_begin)
    assert send_pass(app, NOW)["sent"] == 2
    monkeypatch.undo()
    assert _touch(late, 1).message_id not in server.message_ids()

    counts = send_pass(app, NOW + timedelta(minutes=1))
    assert counts["cancelled"] == 1 and counts["sent"] == 0
    assert db.session.get(Enrollment, late.id).stop_reason.value == "unsubscribed"


def _record_reply(enrollment: Enrollment, at: datetime, *, separately: bool = False) -> None:
    values = dict(
        mailbox_id=enrollment.mailbox_id,
        message_id=f"<reply-{enrollment.id}@example.com>",
        from_address=enrollment.contact.email,
        kind=InboundKind.HUMAN_REPLY,
        received_at=at,
        prospect_id=enrollment.prospect_id,
        enrollment_id=enrollment.id,
        evidence=[],
    )
    if separately:  # another process (the IMAP poller) commits it
        with db.engine.begin() as conn:
            conn.execute(InboundMessage.__table__.insert().values(**values))
    else:
        db.session.add(InboundMessage(**values))
        db.session.commit()


@pytest.mark.parametrize(
    "body",
    [
        "Hi {{ ''.__class__.__mro__ }}",
        "Hi {{ contact.first_name|attr('__class__') }}",
        "Hi {{ '%s'|format(contact) }}",
        "Hi {{ '{0.__class__}'.format(contact.first_name) }}",
        "Hi {{ contact.nickname }}",
    ],
)
def test_a_stored_template_that_escapes_the_sandbox_blocks_the_touch_and_sends_nothing(
    app: Flask, world: dict[str, Any], server: SmtpTestServer, body: str
) -> None:
    enrollment = world["e"][0]
    step = db.session.scalars(
        select(SequenceStep).where(
            SequenceStep.sequence_id == enrollment.sequence_id, SequenceStep.position == 1
        )
    ).one()
    step.body_template = body  # stored directly, as an old or hand-edited row could be
    db.session.commit()

    counts = send_pass(app, NOW)

    assert counts["sent"] == 0 and counts["blocked"] == 3
    assert server.messages == []
    touch = _touch(enrollment, 1)
    assert touch.state == TouchState.SCHEDULED
    assert touch.last_error.startswith("blocked: body line 1: ")
    assert send_pass(app, NOW + timedelta(hours=1))["sent"] == 0


def test_an_uncertain_touch_is_never_resent_until_a_person_decides(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    server.script.data(DROP, rcpt="editor@site2.example")
    counts = send_pass(app, NOW)
    assert counts["uncertain"] == 1 and counts["sent"] == 2
    touch = _touch(world["e"][2], 1)
    assert touch.state == TouchState.UNCERTAIN
    assert "mark it sent or re-queue it" in touch.last_error
    assert touch.subject, "what may have gone out is kept"

    for hours in (1, 2, 30):
        assert send_pass(app, NOW + timedelta(hours=hours))["sent"] == 0
    assert touch.message_id not in server.message_ids()

    requeue_uncertain_touch(touch, now=NOW + timedelta(days=1))
    db.session.commit()
    assert send_pass(app, NOW + timedelta(days=1))["sent"] == 1
    assert server.message_ids().count(touch.message_id) == 1


def test_marking_an_uncertain_touch_sent_records_it_and_its_follow_ups_go_on(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    server.script.data(DROP, rcpt="editor@site2.example")
    send_pass(app, NOW)
    touch = _touch(world["e"][2], 1)
    mark_uncertain_sent(touch, now=NOW + timedelta(hours=1))
    db.session.commit()
    assert touch.state == TouchState.SENT
    assert touch.sent_at == NOW + timedelta(hours=1)
    kinds = [t.summary for t in world["prospects"][2].touchpoints if t.kind.value == "sent"]
    assert kinds and "marked sent" in kinds[0]
    send_pass(app, NOW + timedelta(days=3, hours=2))
    assert _touch(world["e"][2], 2).state == TouchState.SENT


def test_an_expired_claim_returns_to_the_queue_and_nothing_is_lost(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    ghost = outbox.claim_due(world["mailbox"].id, "ghost:1", NOW, lease=timedelta(minutes=10))
    db.session.commit()
    assert len(ghost) == 3
    assert send_pass(app, NOW + timedelta(minutes=5))["sent"] == 0, "the lease still holds"
    counts = send_pass(app, NOW + timedelta(minutes=11))
    assert counts["requeued"] == 3 and counts["sent"] == 3


def test_a_sending_touch_whose_sender_died_becomes_uncertain(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    touch = _touch(world["e"][0], 1)
    touch.state, touch.claimed_by = TouchState.SENDING, "dead:1"
    touch.lease_until = NOW + timedelta(minutes=10)
    db.session.commit()
    counts = send_pass(app, NOW + timedelta(minutes=5))
    assert counts["recovered_uncertain"] == 0 and counts["sent"] == 2, "its lease still holds"
    counts = send_pass(app, NOW + timedelta(minutes=11))
    assert counts["recovered_uncertain"] == 1 and counts["sent"] == 0
    assert db.session.get(Touch, touch.id).state == TouchState.UNCERTAIN
    assert touch.message_id not in server.message_ids()


def test_stopping_an_enrollment_stops_its_follow_ups_at_once(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    send_pass(app, NOW)
    send_pass(app, NOW + timedelta(days=3, hours=1))
    stopped = db.session.get(Enrollment, world["e"][0].id)
    assert stop_enrollment(stopped, "manual")
    db.session.commit()
    for day in range(4, 16):
        send_pass(app, NOW + timedelta(days=day))
    states = [t.state for t in db.session.get(Enrollment, stopped.id).touches]
    assert states == [TouchState.SENT, TouchState.SENT, TouchState.CANCELLED, TouchState.CANCELLED]
    later = [_touch(stopped, step).message_id for step in (3, 4)]
    assert not set(later) & set(server.message_ids())
    other = db.session.get(Enrollment, world["e"][1].id)
    assert other.state.value == "completed", "the other enrollments carry on"


def test_a_suppressed_address_is_checked_again_right_before_sending(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    from crm.core.suppression import suppress

    suppress("site1.example", "asked us never to write")
    db.session.commit()
    counts = send_pass(app, NOW)
    assert counts["sent"] == 2 and counts["cancelled"] == 1
    enrollment = db.session.get(Enrollment, world["e"][1].id)
    assert enrollment.stop_reason.value == "unsubscribed"
    assert "domain is on the do-not-contact list" in enrollment.touches[0].last_error


def test_a_second_mailbox_gets_its_own_connection(
    app: Flask, db: Any, smtp_server_factory: Any
) -> None:
    servers = [smtp_server_factory(auth=SMTP_LOGIN) for _ in range(2)]
    campaign, target = make_campaign()
    one = make_mailbox(servers[0], name="one")
    two = make_mailbox(servers[1], name="two", from_email="outreach@other-site.example")
    prospects = make_prospects(campaign, target, 6)
    enrolled = enroll_all(prospects, NOW).enrolled
    assert {e.mailbox_id for e in enrolled} == {one.id, two.id}, "round-robin"
    assert send_pass(app, NOW)["sent"] == 6
    assert [s.connections for s in servers] == [1, 1]
    assert [len(s.messages) for s in servers] == [3, 3]
    other = next(e for e in enrolled if e.mailbox_id == two.id)
    assert other.touches[0].message_id.endswith("@other-site.example>")


def test_an_unreachable_server_leaves_touches_queued(app: Flask, db: Any) -> None:
    from tests.fixtures.smtp import free_port

    campaign, target = make_campaign()
    make_mailbox(None, smtp_port=free_port())
    enroll_all(make_prospects(campaign, target, 2), NOW)
    counts = send_pass(app, NOW)
    assert counts["sent"] == 0 and counts["deferred"] == 1
    assert {t.state for t in touches() if t.step == 1} == {TouchState.SCHEDULED}
    touch = next(t for t in touches() if t.step == 1 and t.last_error)
    assert "cannot reach the SMTP server" in touch.last_error
    assert touch.attempts == 0


def test_send_due_prints_counts_as_json(
    app: Flask, world: dict[str, Any], server: SmtpTestServer
) -> None:
    import json

    result = app.test_cli_runner().invoke(args=["send-due", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)
    assert {"sent", "deferred", "failed", "uncertain"} <= set(counts)
    # The CLI reads the real clock; the world was enrolled in 2026-11, so all is due.
    assert counts["sent"] == 3 and counts["failed"] == 0
    touchpoints = db.session.scalars(select(Touchpoint)).all()
    assert sum(t.kind.value == "sent" for t in touchpoints) == 3
    assert db.session.scalars(select(Prospect)).first() is not None


def test_starttls_is_verified_against_the_configured_ca_and_a_bad_login_pauses_the_mailbox(
    app: Flask, db: Any, smtp_server_factory: Any
) -> None:
    secure = smtp_server_factory(auth=SMTP_LOGIN, tls="starttls")
    campaign, target = make_campaign()
    mailbox = make_mailbox(secure, smtp_security=Security.STARTTLS)
    enroll_all(make_prospects(campaign, target, 2), NOW)

    untrusted = send_pass(app, NOW)
    assert untrusted["sent"] == 0 and untrusted["mailboxes_paused"] == 1
    assert "TLS failed" in db.session.get(Mailbox, mailbox.id).paused_reason

    _resume(mailbox.id)
    assert send_pass(app, NOW, ca_file=secure.ca_file)["sent"] == 2
    assert len(secure.messages) == 2

    _resume(mailbox.id, password="not-the-password")
    enroll_all(make_prospects(campaign, target, 1, prefix="late"), NOW)
    refused = send_pass(app, NOW + timedelta(minutes=1), ca_file=secure.ca_file)
    assert refused["mailboxes_paused"] == 1 and refused["sent"] == 0
    reason = db.session.get(Mailbox, mailbox.id).paused_reason
    assert "535" in reason and "5.7.8" in reason
    assert not is_suppressed("editor@late0.example"), "nobody is suppressed for our login"


def _resume(mailbox_id: int, password: str | None = None) -> None:
    from crm.crypto import encrypt_secret
    from tests.conftest import TEST_ENCRYPTION_KEY

    mailbox = db.session.get(Mailbox, mailbox_id)
    mailbox.paused, mailbox.paused_reason = False, ""
    if password is not None:
        mailbox.password_encrypted = encrypt_secret(TEST_ENCRYPTION_KEY, password)
    db.session.commit()


def test_an_idn_contact_goes_out_with_the_ascii_envelope_among_ascii_ones(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    prospects = make_prospects(campaign, target, 3)
    prospects[1].contacts[0].email = "editor@malmötarget.com"
    db.session.commit()
    enroll_all(prospects, NOW)

    counts = send_pass(app, NOW)

    assert counts["sent"] == 3 and counts["blocked"] == 0
    idn = next(m for m in server.messages if m.rcpt_tos == ["editor@xn--malmtarget-hcb.com"])
    assert str(idn.message["To"]) == "Sam Lee1 <editor@xn--malmtarget-hcb.com>"
    assert sorted(r for m in server.messages for r in m.rcpt_tos) == [
        "editor@site0.example",
        "editor@site2.example",
        "editor@xn--malmtarget-hcb.com",
    ]
    assert {t.state for t in touches() if t.step == 1} == {TouchState.SENT}


def test_an_address_that_cannot_be_encoded_blocks_only_its_touch(
    app: Flask, db: Any, server: SmtpTestServer
) -> None:
    campaign, target = make_campaign()
    make_mailbox(server)
    prospects = make_prospects(campaign, target, 3)
    db.session.commit()
    enroll_all(prospects, NOW)
    # Stored directly, as an old or hand-edited row could be: no IDNA form exists.
    bad = prospects[1].contacts[0]
    bad.email = "editor@-bad-.exa mple"
    db.session.commit()

    counts = send_pass(app, NOW)

    assert counts["sent"] == 2 and counts["blocked"] == 1 and counts["uncertain"] == 0
    assert len(server.messages) == 2
    blocked = next(t for t in touches() if t.step == 1 and t.state != TouchState.SENT)
    assert blocked.state == TouchState.SCHEDULED and blocked.claimed_by is None
    assert blocked.last_error.startswith("blocked: ") and "domain" in blocked.last_error
    assert [t for t in touches() if t.state == TouchState.CLAIMED] == []
