"""Enrolling prospects' contacts: planning, skipping with reasons, mailboxes, stop/pause/resume."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from crm.core.errors import UserError
from crm.core.suppression import suppress
from crm.extensions import db
from crm.models import Contact, Enrollment, ProspectStatus, Touch, TouchState
from crm.models.outreach import campaign_mailboxes
from crm.outreach.enrollment import enroll
from crm.outreach.lifecycle import pause_enrollment, resume_enrollment, stop_enrollment
from crm.outreach.outbox import claim_due
from tests.outreach.factories import make_campaign, make_mailbox, make_prospects

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    campaign, target = make_campaign()
    mailbox = make_mailbox(
        None, window_start="09:00", window_end="17:00", days="mon,tue,wed,thu,fri,sat,sun"
    )
    prospects = make_prospects(campaign, target, 3, timezone="Asia/Tokyo")
    db.session.commit()
    return {"campaign": campaign, "target": target, "mailbox": mailbox, "prospects": prospects}


def test_enrolling_plans_four_touches_in_the_contacts_window_with_message_ids(
    world: dict[str, Any],
) -> None:
    result = enroll(world["prospects"], angle="resource replacement", now=NOW)
    db.session.commit()

    assert len(result.enrolled) == 3 and result.skipped == []
    enrollment = result.enrolled[0]
    assert enrollment.angle == "resource-replacement" and enrollment.state.value == "active"
    due = [t.due_at.astimezone(TOKYO) for t in enrollment.touches]
    # 15:00 UTC is midnight in Tokyo: the first slot is 09:00 there, then days 4, 9, 14.
    assert due[0] == datetime(2026, 11, 19, 9, 0, tzinfo=TOKYO)
    assert [(d.date() - due[0].date()).days for d in due] == [0, 3, 8, 13]
    assert all(d.time() == time(9, 0) for d in due)
    ids = [t.message_id for t in enrollment.touches]
    assert len(set(ids)) == 4
    assert all(i.startswith("<") and i.endswith("@sample-site.example>") for i in ids)
    prospect = world["prospects"][0]
    # Enrolled, not yet contacted: the stage moves when the first email goes out.
    assert prospect.status == ProspectStatus.QUALIFIED
    assert any("Enrolled editor@site0.example" in t.summary for t in prospect.touchpoints)


def test_a_domain_in_an_active_sequence_of_any_campaign_is_skipped_unless_allowed(
    world: dict[str, Any],
) -> None:
    other_campaign, other_target = make_campaign("Other outreach")
    twin = make_prospects(other_campaign, other_target, 1, prefix="site")[0]  # site0.example
    twin.contacts[0].email = "boss@site0.example"
    enroll([twin], angle="broken link", now=NOW)
    db.session.commit()

    result = enroll(world["prospects"], angle="resource replacement", now=NOW)
    assert [s.domain for s in result.skipped] == ["site0.example"]
    assert "already in an active sequence (campaign Other outreach)" in result.skipped[0].reason
    assert len(result.enrolled) == 2

    again = enroll(world["prospects"][:1], angle="resource replacement", now=NOW, allow_active=True)
    assert len(again.enrolled) == 1


def test_a_contact_already_in_a_sequence_is_never_enrolled_twice(world: dict[str, Any]) -> None:
    enroll(world["prospects"][:1], angle="resource replacement", now=NOW)
    db.session.commit()
    result = enroll(world["prospects"][:1], angle="broken link", now=NOW, allow_active=True)
    assert result.enrolled == []
    assert "no contact that may be emailed" in result.skipped[0].reason


def test_suppressed_bounced_and_missing_contacts_are_skipped_with_a_reason(
    world: dict[str, Any],
) -> None:
    first, second, third = world["prospects"]
    suppress("editor@site0.example", "asked us to stop")
    second.contacts[0].bounced_at = NOW - timedelta(days=30)
    third.contacts.clear()
    db.session.flush()
    chosen = enroll(
        [first, second], contacts=[first.contacts[0], second.contacts[0]], angle="skyscraper"
    )
    reasons = {(s.domain, s.email): s.reason for s in chosen.skipped}
    assert reasons == {
        ("site0.example", "editor@site0.example"): "the address is on the do-not-contact list",
        ("site1.example", "editor@site1.example"): "the address bounced",
    }
    bulk = enroll([third], angle="skyscraper")
    assert [(s.domain, s.reason) for s in bulk.skipped] == [("site2.example", "no contact")]


def test_a_template_that_cannot_render_for_a_prospect_skips_it_with_the_reason(
    world: dict[str, Any],
) -> None:
    world["prospects"][1].target_page = None
    result = enroll(world["prospects"], angle="resource replacement", now=NOW)
    assert [s.domain for s in result.skipped] == ["site1.example"]
    assert result.skipped[0].reason == (
        'step 1: body line 5: missing merge field "target.url": map the prospect to a target page'
    )


def test_excluded_and_replied_prospects_are_left_alone(world: dict[str, Any]) -> None:
    world["prospects"][0].status = ProspectStatus.EXCLUDED
    world["prospects"][1].status = ProspectStatus.REPLIED
    result = enroll(world["prospects"], angle="resource replacement", now=NOW)
    assert [s.reason for s in result.skipped] == [
        "the prospect is excluded; restore it first",
        "the prospect already replied",
    ]


def test_several_chosen_contacts_of_one_prospect_are_all_enrolled(world: dict[str, Any]) -> None:
    prospect = world["prospects"][0]
    prospect.contacts.append(Contact(email="owner@site0.example", first_name="Kim"))
    db.session.flush()
    result = enroll([prospect], contacts=list(prospect.contacts), angle="coverage gap", now=NOW)
    assert sorted(e.contact.email for e in result.enrolled) == [
        "editor@site0.example",
        "owner@site0.example",
    ]


def test_enrollments_spread_over_the_campaigns_mailboxes_and_skip_paused_ones(
    world: dict[str, Any],
) -> None:
    campaign = world["campaign"]
    one = make_mailbox(None, name="one", from_email="ana@one.example")
    two = make_mailbox(None, name="two", from_email="ana@two.example")
    paused = make_mailbox(None, name="paused", from_email="ana@three.example", paused=True)
    for mailbox in (one, two, paused):
        db.session.execute(
            campaign_mailboxes.insert().values(campaign_id=campaign.id, mailbox_id=mailbox.id)
        )
    extra = make_prospects(campaign, world["target"], 3, prefix="more")
    result = enroll(world["prospects"] + extra, angle="resource replacement", now=NOW)
    used = [e.mailbox.name for e in result.enrolled]
    assert sorted(used) == ["one", "one", "one", "two", "two", "two"]
    assert {t.message_id.rsplit("@", 1)[1] for e in result.enrolled for t in e.touches} == {
        "one.example>",
        "two.example>",
    }


def test_without_a_mailbox_to_send_from_enrolling_says_what_to_do(db: Any) -> None:
    campaign, target = make_campaign()
    prospects = make_prospects(campaign, target, 1)
    with pytest.raises(UserError, match="no mailbox to send from"):
        enroll(prospects, angle="resource replacement")


def test_stopping_cancels_every_unsent_touch_even_one_a_sender_holds(
    world: dict[str, Any],
) -> None:
    enrollment = enroll(world["prospects"][:1], angle="resource replacement", now=NOW).enrolled[0]
    db.session.commit()
    held = claim_due(world["mailbox"].id, "worker:1", NOW + timedelta(days=1))
    db.session.commit()
    assert held == [enrollment.touches[0].id]

    assert stop_enrollment(enrollment, "manual")
    db.session.commit()
    assert not stop_enrollment(enrollment, "manual"), "already stopped"
    assert enrollment.stop_reason.value == "manual"
    assert {t.state for t in enrollment.touches} == {TouchState.CANCELLED}
    with pytest.raises(UserError, match="unknown stop reason"):
        stop_enrollment(enrollment, "bored")


def test_a_paused_enrollment_is_not_claimed_and_resumes_with_its_gaps_kept(
    world: dict[str, Any],
) -> None:
    enrollment = enroll(world["prospects"][:1], angle="resource replacement", now=NOW).enrolled[0]
    assert pause_enrollment(enrollment)
    db.session.commit()
    late = NOW + timedelta(days=6)
    assert claim_due(world["mailbox"].id, "worker:1", late) == []

    assert resume_enrollment(enrollment, now=late)
    db.session.commit()
    due = [t.due_at.astimezone(TOKYO) for t in enrollment.touches]
    assert due[0] == datetime(2026, 11, 25, 9, 0, tzinfo=TOKYO), "the next slot after resuming"
    assert [(d.date() - due[0].date()).days for d in due] == [0, 3, 8, 13]


def test_crm_enroll_takes_tier_one_prospects_and_reports_json(
    app: Flask, world: dict[str, Any]
) -> None:
    tier_two = make_prospects(world["campaign"], world["target"], 1, tier=2, prefix="t2-")
    db.session.commit()
    args = ["enroll", "Gantt outreach", "--angle", "resource replacement", "--tier", "1"]
    result = app.test_cli_runner().invoke(args=[*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(e["domain"] for e in data["enrolled"]) == [
        "site0.example",
        "site1.example",
        "site2.example",
    ]
    assert tier_two[0].domain not in result.stdout
    first = data["enrolled"][0]
    assert first["mailbox"] == "outreach" and len(first["touches"]) == 4
    assert first["touches"][0]["message_id"].endswith("@sample-site.example>")

    again = app.test_cli_runner().invoke(
        args=["enroll", "Gantt outreach", "--angle", "broken-link", "--domain", "site0.example"]
    )
    # Every requested prospect skipped: the table says why, and the exit status says so too.
    assert again.exit_code == 1
    assert "0 enrolled, 1 skipped" in again.stdout
    assert "already in an active sequence" in again.stdout
    assert "nothing enrolled: every requested prospect was skipped" in again.stderr


def test_crm_enroll_takes_chosen_contacts(app: Flask, world: dict[str, Any]) -> None:
    first = world["prospects"][0]
    db.session.add(Contact(prospect=first, email="boss@site0.example", first_name="Bo"))
    db.session.commit()
    args = ["enroll", "Gantt outreach", "--angle", "skyscraper", "--format", "json",
            "--contact", "boss@site0.example", "--contact", "EDITOR@site1.example"]  # fmt: skip
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.stderr
    enrolled = json.loads(result.stdout)["enrolled"]
    assert sorted((e["domain"], e["contact"]) for e in enrolled) == [
        ("site0.example", "boss@site0.example"), ("site1.example", "editor@site1.example")
    ]  # fmt: skip
    unknown = app.test_cli_runner().invoke(
        args=[
            "enroll",
            "Gantt outreach",
            "--angle",
            "skyscraper",
            "--contact",
            "who@nowhere.example",
        ]
    )
    assert unknown.exit_code == 1
    assert "no contact who@nowhere.example in campaign Gantt outreach" in unknown.stderr


def test_crm_enroll_refuses_without_a_selection_or_with_an_unknown_angle(
    app: Flask, world: dict[str, Any]
) -> None:
    runner = app.test_cli_runner()
    nothing = runner.invoke(args=["enroll", "Gantt outreach", "--angle", "broken link"])
    assert nothing.exit_code == 1 and "--domain D and/or --contact EMAIL" in nothing.stderr
    unknown = runner.invoke(args=["enroll", "Gantt outreach", "--angle", "bribery", "--tier", "1"])
    assert unknown.exit_code == 1 and "unknown angle 'bribery'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_prospects_show_lists_enrollments_in_the_contract_shape(
    app: Flask, world: dict[str, Any]
) -> None:
    enrollment = enroll(world["prospects"][:1], angle="resource replacement", now=NOW).enrolled[0]
    stop_enrollment(enrollment, "won")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["prospects", "show", "Gantt outreach", "site0.example", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    [shown] = json.loads(result.stdout)["enrollments"]
    assert shown["contact"] == "editor@site0.example"
    assert shown["angle"] == "resource-replacement"
    assert shown["state"] == "stopped" and shown["stop_reason"] == "won"
    assert [t["step"] for t in shown["touches"]] == [1, 2, 3, 4]
    first = shown["touches"][0]
    assert set(first) >= {"step", "state", "due_at", "sent_at", "message_id"}
    assert first["state"] == "cancelled" and first["sent_at"] is None
    assert first["due_at"] == "2026-11-19T00:00:00Z"
    touch = db.session.scalars(select(Touch).where(Touch.step == 1)).first()
    assert touch is not None and first["message_id"] == touch.message_id
    assert db.session.get(Enrollment, enrollment.id) is not None


def test_a_mailbox_without_a_sender_name_refuses_the_enrollment_in_one_line(
    world: dict[str, Any],
) -> None:
    world["mailbox"].from_name = ""
    db.session.commit()
    with pytest.raises(UserError) as refused:
        enroll(world["prospects"], angle="resource replacement", now=NOW)
    assert str(refused.value) == (
        "mailbox outreach has no sender name (sender.name): set it on the Mailboxes page first"
    )
