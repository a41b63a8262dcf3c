"""The real poller against the private Dovecot, with the sequence really sent over SMTP:
replies, bounces and out-of-office change the outreach after one poll; nothing is lost
or counted twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import (
    Contact,
    EnrollmentState,
    MailboxFolder,
    Notification,
    ProspectStatus,
    StopReason,
    Suppression,
    Touch,
    Touchpoint,
    TouchpointKind,
    TouchState,
    utcnow,
)
from crm.outreach import outbox
from tests.fixtures.dovecot import DovecotAccount
from tests.fixtures.smtp import SmtpTestServer
from tests.mail.drop_proxy import DropProxy
from tests.outreach.factories import World, enroll_and_send_first, make_world, send_pass
from tests.replies import forged
from tests.replies.factories import hard_bounce, inbound, out_of_office, poll, reply

pytestmark = [pytest.mark.postgres, pytest.mark.dovecot]

A, B = "pmtoolsreview.com", "ganttguide.org"


@pytest.fixture
def world(app: Flask, dovecot: DovecotAccount, dovecot_smtp: SmtpTestServer) -> World:
    built = make_world(dovecot, dovecot_smtp, [A, B])
    enroll_and_send_first(app, built)
    return built


def test_reply_appended_to_the_mailbox_stops_the_right_enrollment_after_one_poll(
    world: World, dovecot: DovecotAccount
) -> None:
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    flags = dovecot.flags()

    counts = poll()

    assert counts == {
        "fetched": 1, "replies": 1, "auto_replies": 0, "bounces": 0, "unmatched": 0, "errors": 0,
    }  # fmt: skip
    replied, other = world.enrollment(A), world.enrollment(B)
    assert (replied.state, replied.stop_reason) == (EnrollmentState.STOPPED, StopReason.REPLIED)
    assert other.state == EnrollmentState.ACTIVE
    assert {t.state for t in replied.touches if t.step > 1} == {TouchState.CANCELLED}
    assert world.prospect(A).status == ProspectStatus.REPLIED
    assert world.prospect(B).status == ProspectStatus.IN_SEQUENCE
    message = inbound()[0]
    assert message.matched_touch_id == world.touch(A).id
    assert message.match_method == "in_reply_to"
    assert message.snippet == "Thanks Ana, happy to add your template to the list."
    assert message.suggested_outcome is not None and message.suggestion_reason
    assert message.effects_applied_at is not None
    entry = db.session.scalar(
        select(Touchpoint).where(
            Touchpoint.prospect_id == world.prospect(A).id,
            Touchpoint.kind == TouchpointKind.REPLY,
        )
    )
    assert entry is not None and "happy to add your template" in entry.summary
    notes = db.session.scalars(select(Notification)).all()
    assert [n.user_id for n in notes] == [world.specialist.id]
    assert notes[0].link == f"/inbox/messages/{message.id}"
    assert dovecot.flags() == flags, "the poller never sets \\Seen"


def test_reply_from_a_colleague_stops_the_other_enrollments_of_the_prospect(
    app: Flask, dovecot: DovecotAccount, dovecot_smtp: SmtpTestServer
) -> None:
    world = make_world(dovecot, dovecot_smtp, [A], extra_contacts={A: [f"owner@{A}"]})
    from crm.outreach.enrollment import enroll

    enroll(world.prospects, angle="resource replacement", mailbox=world.mailbox, allow_active=True)
    enroll(
        world.prospects,
        angle="guest post",
        contacts=[world.prospects[0].contacts[1]],
        mailbox=world.mailbox,
        allow_active=True,
    )
    db.session.commit()
    send_pass(app)
    # Answered from another address at the domain, without threading headers.
    dovecot.append(reply(None, sender=f"jo@{A}", message_id="<r2@pmtoolsreview.com>"))

    counts = poll()

    assert counts["replies"] == 1
    states = db.session.scalars(select(Touch.state).where(Touch.step == 2)).all()
    assert set(states) == {TouchState.CANCELLED}
    assert inbound()[0].match_method == "domain"


def test_hard_bounce_suppresses_the_address_and_marks_the_contact(
    world: World, dovecot: DovecotAccount
) -> None:
    address = f"editor@{A}"
    dovecot.append(hard_bounce(world.touch(A), recipient=address, message_id="<b1@mx.example>"))

    counts = poll()

    assert counts["bounces"] == 1 and counts["fetched"] == 1
    enrollment = world.enrollment(A)
    assert (enrollment.state, enrollment.stop_reason) == (
        EnrollmentState.STOPPED,
        StopReason.BOUNCED,
    )
    assert db.session.scalar(select(Suppression.value).where(Suppression.value == address))
    contact = db.session.scalar(select(Contact).where(Contact.email == address))
    assert contact is not None and contact.bounced_at is not None
    message = inbound()[0]
    assert (message.kind, message.bounce_recipient, message.bounce_status) == (
        "bounce_hard",
        address,
        "5.1.1",
    )
    assert message.match_method == "bounce_original"
    assert world.enrollment(B).state == EnrollmentState.ACTIVE


def test_out_of_office_moves_the_next_touch_to_the_working_day_after_the_return_date(
    world: World, dovecot: DovecotAccount
) -> None:
    step2 = world.touch(A, 2)
    due_before = step2.due_at
    back = (utcnow() + timedelta(days=30)).date()
    while back.weekday() != 4:  # a Friday: the next working day is the Monday after
        back += timedelta(days=1)
    dovecot.append(out_of_office(world.touch(A), sender=f"editor@{A}", back=back,
                                 message_id="<ooo1@pmtoolsreview.com>"))  # fmt: skip

    counts = poll()

    assert counts["auto_replies"] == 1
    moved = world.touch(A, 2)
    assert moved.due_at.date() == back + timedelta(days=3)
    assert moved.due_at.timetz() == due_before.timetz(), "the time of day is kept"
    assert world.enrollment(A).state == EnrollmentState.ACTIVE
    message = inbound()[0]
    assert (message.kind, message.return_date) == ("ooo", back)
    assert any("Auto-Submitted" in e for e in message.evidence)


def test_unmatched_mail_waits_in_triage(world: World, dovecot: DovecotAccount) -> None:
    dovecot.append(
        reply(None, sender="someone@unknown-blog.net", subject="Re: your email",
              message_id="<u1@unknown-blog.net>")
    )  # fmt: skip

    counts = poll()

    assert counts["unmatched"] == 1 and counts["fetched"] == 1
    message = inbound()[0]
    assert message.prospect_id is None and message.matched_touch_id is None
    assert message.kind == "human_reply"
    assert {world.enrollment(A).state, world.enrollment(B).state} == {EnrollmentState.ACTIVE}


def test_forged_bounces_and_unsubscribes_change_nothing_after_a_poll(
    world: World, dovecot: DovecotAccount
) -> None:
    for build in (forged.forged_x_failed_recipients, forged.forged_dsn_bare_domain,
                  forged.forged_unsubscribe_from_a_stranger, forged.phishing_quota_notice,
                  forged.body_only_message_id):  # fmt: skip
        dovecot.append(build(world))

    counts = poll()

    assert counts["fetched"] == 5 and counts["errors"] == 0
    assert db.session.scalars(select(Suppression)).all() == []
    assert {world.enrollment(A).state, world.enrollment(B).state} == {EnrollmentState.ACTIVE}
    assert all(m.prospect_id is None for m in inbound())


def test_own_sent_copy_is_never_stored_or_counted(world: World, dovecot: DovecotAccount) -> None:
    touch = world.touch(A)
    copy = (
        f"From: Ana Lopez <ana@sample-site.example>\r\nTo: editor@{A}\r\n"
        f"Subject: Your Gantt chart round-up\r\nMessage-ID: {touch.message_id}\r\n\r\nHi\r\n"
    ).encode()
    dovecot.append(copy)

    assert poll()["fetched"] == 0
    assert inbound() == []


def _snapshot() -> dict[str, Any]:
    return {
        "messages": [(m.id, m.kind, m.effects_applied_at) for m in inbound()],
        "touches": [(t.id, t.state, t.due_at) for t in db.session.scalars(select(Touch))],
        "touchpoints": db.session.scalar(select(func.count()).select_from(Touchpoint)),
        "notifications": db.session.scalar(select(func.count()).select_from(Notification)),
        "cursor": [(f.uidvalidity, f.last_uid) for f in db.session.scalars(select(MailboxFolder))],
    }


def test_second_poll_with_nothing_new_fetches_nothing_and_changes_nothing(
    world: World, dovecot: DovecotAccount
) -> None:
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(
        hard_bounce(world.touch(B), recipient=f"editor@{B}", message_id="<b@mx.example>")
    )
    poll()
    before, flags = _snapshot(), dovecot.flags()

    counts = poll()

    assert counts["fetched"] == 0 and sum(counts.values()) == 0
    assert _snapshot() == before
    assert dovecot.flags() == flags


def test_uidvalidity_reset_gives_no_duplicates_and_no_misses_in_the_database(
    world: World, dovecot: DovecotAccount
) -> None:
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(reply(None, sender="x@elsewhere.net", message_id="<u1@elsewhere.net>"))
    poll()
    dovecot.append(reply(None, sender="y@elsewhere.net", message_id="<u2@elsewhere.net>"))
    old, new = dovecot.reset_uidvalidity()
    dovecot.append(reply(world.touch(B), sender=f"editor@{B}", message_id="<r2@ganttguide.org>"))

    counts = poll()
    again = poll()

    assert new != old
    assert counts["fetched"] == 2, counts  # the two that were new, nothing twice
    assert again["fetched"] == 0
    ids = [m.message_id for m in inbound()]
    assert sorted(ids) == sorted(
        [
            "<r1@pmtoolsreview.com>",
            "<u1@elsewhere.net>",
            "<u2@elsewhere.net>",
            "<r2@ganttguide.org>",
        ]
    )
    notes = db.session.scalar(select(func.count()).select_from(Notification))
    assert notes == 2, "effects ran once per message"
    folder = db.session.scalars(select(MailboxFolder)).one()
    assert folder.uidvalidity == new and folder.last_error == ""


def test_connection_dropped_mid_fetch_loses_nothing(
    world: World, dovecot: DovecotAccount, imap_proxy: DropProxy
) -> None:
    world.mailbox.imap_port = imap_proxy.port
    db.session.commit()
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(reply(world.touch(B), sender=f"editor@{B}", message_id="<r2@ganttguide.org>"))
    imap_proxy.drop_after(b"UID FETCH", server_bytes=200)

    failed = poll()

    assert failed["errors"] == 1 and failed["fetched"] == 0
    folder = db.session.scalars(select(MailboxFolder)).one()
    assert "connection lost" in folder.last_error and folder.last_uid == 0
    assert inbound() == []
    assert world.enrollment(A).state == EnrollmentState.ACTIVE

    retried = poll()

    assert retried["fetched"] == 2 and retried["replies"] == 2 and retried["errors"] == 0
    assert {world.enrollment(A).state, world.enrollment(B).state} == {EnrollmentState.STOPPED}
    assert db.session.scalars(select(MailboxFolder)).one().last_error == ""


def test_first_poll_skips_mail_older_than_anything_we_sent(
    app: Flask, dovecot: DovecotAccount, dovecot_smtp: SmtpTestServer
) -> None:
    old = utcnow() - timedelta(days=90)
    dovecot.append(
        reply(None, sender="old@news.example", message_id="<old@news.example>"), when=old
    )
    world = make_world(dovecot, dovecot_smtp, [A])
    enroll_and_send_first(app, world)
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))

    counts = poll()

    assert counts["fetched"] == 1
    assert [m.message_id for m in inbound()] == ["<r1@pmtoolsreview.com>"]


def test_paused_mailbox_is_still_polled(world: World, dovecot: DovecotAccount) -> None:
    world.mailbox.paused = True
    world.mailbox.paused_reason = "5.7.1 policy"
    db.session.commit()
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))

    assert poll()["replies"] == 1
    assert world.enrollment(A).state == EnrollmentState.STOPPED


def test_wrong_imap_password_is_recorded_on_the_folder_and_the_pass_goes_on(
    world: World, dovecot: DovecotAccount
) -> None:
    from crm.crypto import encrypt_secret
    from tests.conftest import TEST_ENCRYPTION_KEY

    world.mailbox.password_encrypted = encrypt_secret(TEST_ENCRYPTION_KEY, "wrong")
    db.session.commit()

    counts = poll()

    assert counts["errors"] == 1
    assert "login refused" in db.session.scalars(select(MailboxFolder)).one().last_error


def test_reply_after_the_poll_stops_the_next_send(
    app: Flask, world: World, dovecot: DovecotAccount, dovecot_smtp: SmtpTestServer
) -> None:
    later = world.touch(A, 2).due_at + timedelta(minutes=1)
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    poll()

    counts = send_pass(app, later)

    assert counts["sent"] == 1, "only B's second touch goes out"
    assert world.touch(A, 2).state == TouchState.CANCELLED
    assert world.touch(B, 2).state == TouchState.SENT
    assert len(dovecot_smtp.messages) == 3


def test_reply_arriving_between_a_touchs_claim_and_its_send_stops_that_send(
    app: Flask,
    world: World,
    dovecot: DovecotAccount,
    dovecot_smtp: SmtpTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    later = world.touch(A, 2).due_at + timedelta(minutes=1)
    polled: list[dict[str, int]] = []

    claim = outbox.claim_due

    def reply_lands_after_claim(*args: Any, **kwargs: Any) -> list[int]:
        ids = claim(*args, **kwargs)
        if ids and not polled:
            claimed = db.session.scalars(select(Touch).where(Touch.state == "claimed")).all()
            assert {t.step for t in claimed} == {2}
            dovecot.append(reply(world.touch(A), sender=f"editor@{A}",
                                 message_id="<r1@pmtoolsreview.com>"))  # fmt: skip
            polled.append(poll())
        return ids

    monkeypatch.setattr(outbox, "claim_due", reply_lands_after_claim)

    counts = send_pass(app, later)

    assert polled and polled[0]["replies"] == 1
    assert world.touch(A, 2).state == TouchState.CANCELLED
    assert world.touch(A, 2).sent_at is None
    assert world.touch(B, 2).state == TouchState.SENT
    assert counts["sent"] == 1
    sent_ids = dovecot_smtp.message_ids()
    assert world.touch(A, 2).message_id not in sent_ids


@pytest.mark.parametrize(
    "body", ["Please remove me from your list.", "Bonjour,\r\n\r\nMerci de ne plus m'écrire."]
)
def test_unsubscribe_request_suppresses_the_sender_and_stops(
    world: World, dovecot: DovecotAccount, body: str
) -> None:
    dovecot.append(
        reply(world.touch(A), sender=f"editor@{A}", body=body,
              message_id="<unsub@pmtoolsreview.com>")
    )  # fmt: skip

    assert poll()["replies"] == 1
    enrollment = world.enrollment(A)
    assert enrollment.stop_reason == StopReason.UNSUBSCRIBED
    assert db.session.scalar(select(Suppression).where(Suppression.value == f"editor@{A}"))


def test_soft_bounce_is_counted_and_the_sequence_goes_on(
    world: World, dovecot: DovecotAccount
) -> None:
    raw = hard_bounce(world.touch(A), recipient=f"editor@{A}", message_id="<soft@mx.example>")
    raw = raw.replace(b"Status: 5.1.1", b"Status: 4.2.2").replace(
        b"Action: failed", b"Action: delayed"
    )
    raw = raw.replace(b"550 5.1.1 User unknown", b"452 4.2.2 Mailbox full")
    raw = raw.replace(b"550 5.1.1 <", b"452 4.2.2 <")
    dovecot.append(raw)

    assert poll()["bounces"] == 1
    assert world.enrollment(A).state == EnrollmentState.ACTIVE
    message = inbound()[0]
    assert message.kind == "bounce_soft"
    assert any("soft bounce 1" in line for line in message.effects)


def test_a_message_whose_effects_fail_is_stored_with_the_error_and_blocks_nothing(
    world: World, dovecot: DovecotAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.replies import receive

    real = receive.apply_effects

    def flaky(message: Any, **kw: Any) -> list[str]:
        if message.message_id == "<r1@pmtoolsreview.com>":
            raise RuntimeError("a bug in the effects")
        return real(message, **kw)

    monkeypatch.setattr(receive, "apply_effects", flaky)
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(reply(world.touch(B), sender=f"editor@{B}", message_id="<r2@ganttguide.org>"))

    counts = poll()

    assert counts["fetched"] == 2 and counts["errors"] == 0
    broken, fine = inbound()
    assert broken.effects_applied_at is None
    assert broken.effects == ["applying the effects failed: RuntimeError('a bug in the effects')"]
    assert fine.effects_applied_at is not None
    assert world.enrollment(B).state == EnrollmentState.STOPPED
    assert poll()["fetched"] == 0, "the cursor moved past both"


def test_a_reply_holding_nul_characters_is_stored_and_stops_its_sequence(
    world: World, dovecot: DovecotAccount
) -> None:
    # PostgreSQL's text refuses NUL: this reply used to fail the mailbox's every poll.
    raw = reply(world.touch(A), sender=f"editor@{A}", message_id="<nul@pmtoolsreview.com>",
                subject="=?utf-8?q?Re:_Gantt=00_list?=", body="Happy=00 to add it.",
                headers="Content-Transfer-Encoding: quoted-printable\r\n")  # fmt: skip
    dovecot.append(raw)
    dovecot.append(reply(world.touch(B), sender=f"editor@{B}", message_id="<r2@ganttguide.org>"))

    assert poll()["replies"] == 2

    stored = {m.message_id: m for m in inbound()}
    assert stored["<nul@pmtoolsreview.com>"].subject == "Re: Gantt\ufffd list"
    assert "Happy\ufffd to add it." in stored["<nul@pmtoolsreview.com>"].snippet
    assert world.enrollment(A).state == EnrollmentState.STOPPED
    assert world.enrollment(B).state == EnrollmentState.STOPPED


def test_a_message_that_cannot_be_stored_at_all_waits_in_triage_and_the_mailbox_reads_on(
    world: World, dovecot: DovecotAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crm.replies.receive
    from crm.replies.inbox import inbox_query

    # A bug in reading one odd message (here: injected) used to stop the mailbox's poll on
    # every pass, so no later reply was read.
    real = crm.replies.receive.read_inbound

    def broken_on_odd(facts: Any, *args: Any, **kwargs: Any) -> Any:
        if "odd" in facts.subject:
            raise RuntimeError("cannot read this one")
        return real(facts, *args, **kwargs)

    monkeypatch.setattr(crm.replies.receive, "read_inbound", broken_on_odd)
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<odd@pmtoolsreview.com>",
                         subject="Re: an odd one"))  # fmt: skip
    dovecot.append(reply(world.touch(B), sender=f"editor@{B}", message_id="<r2@ganttguide.org>"))

    assert poll() == {
        "fetched": 2, "replies": 1, "auto_replies": 0, "bounces": 0, "unmatched": 1, "errors": 1,
    }  # fmt: skip
    assert world.enrollment(B).state == EnrollmentState.STOPPED
    (kept,) = db.session.scalars(inbox_query(None, tab="triage")).all()
    assert kept.subject == "A message Linkgap could not read (UID 1 of INBOX)"
    assert kept.uid == 1 and "cannot read this one" in kept.effects[0]
    assert poll()["fetched"] == 0  # read past it, once
