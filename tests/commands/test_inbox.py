"""`crm poll-inbox`, `crm inbox ...` and the `inbound` part of `crm prospects show`, run as a
script would, against the real Dovecot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import EnrollmentState, ProspectStatus
from tests.fixtures.dovecot import DovecotAccount
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import World, enroll_and_send_first, make_world
from tests.replies.factories import inbound, reply

pytestmark = [pytest.mark.postgres, pytest.mark.dovecot]

A, B = "pmtoolsreview.com", "ganttguide.org"


def crm(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result


@pytest.fixture
def world(app: Flask, dovecot: DovecotAccount, dovecot_smtp: SmtpTestServer) -> World:
    built = make_world(dovecot, dovecot_smtp, [A, B])
    enroll_and_send_first(app, built)
    return built


def test_poll_inbox_prints_the_counts_of_one_pass(
    app: Flask, world: World, dovecot: DovecotAccount
) -> None:
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(reply(None, sender="who@else.net", message_id="<u1@else.net>"))

    result = crm(app, "poll-inbox", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "fetched": 2, "replies": 1, "auto_replies": 0, "bounces": 0, "unmatched": 1, "errors": 0,
    }  # fmt: skip
    assert world.enrollment(A).state == EnrollmentState.STOPPED
    again = crm(app, "poll-inbox")
    assert again.exit_code == 0
    assert again.stdout.strip() == "fetched 0: 0 replies, 0 auto-replies, 0 bounces, 0 unmatched"


def test_poll_inbox_names_a_folder_it_could_not_read_and_exits_1(app: Flask, world: World) -> None:
    world.mailbox.imap_folders = "INBOX,Nowhere"
    db.session.commit()

    result = crm(app, "poll-inbox", "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == 1
    assert "mailbox ana Nowhere:" in result.stderr and "Traceback" not in result.stderr


def test_inbox_list_outcome_and_assign_from_the_command_line(
    app: Flask, world: World, dovecot: DovecotAccount
) -> None:
    dovecot.append(reply(world.touch(A), sender=f"editor@{A}", message_id="<r1@pmtoolsreview.com>"))
    dovecot.append(
        reply(None, sender=f"sarah@{B}-mail.example", body="Sure, go ahead and send it.",
              message_id="<u1@mail.example>")
    )  # fmt: skip
    assert crm(app, "poll-inbox").exit_code == 0

    listed = crm(app, "inbox", "list", "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["message_id"] for r in rows] == ["<u1@mail.example>", "<r1@pmtoolsreview.com>"]
    matched = rows[1]
    assert matched["kind"] == "human_reply"
    assert matched["matched_touch"] == world.touch(A).message_id
    assert matched["prospect"] == A and matched["campaign"] == "Gantt outreach"
    assert matched["bounce"] is None and matched["return_date"] is None
    assert matched["outcome"] is None and matched["from"] == f"editor@{A}"
    assert matched["received_at"].endswith("Z")

    triage = json.loads(crm(app, "inbox", "list", "--unmatched", "--format", "json").stdout)
    assert [r["message_id"] for r in triage] == ["<u1@mail.example>"]
    only_campaign = crm(app, "inbox", "list", "--campaign", "Gantt outreach", "--format", "json")
    assert [r["prospect"] for r in json.loads(only_campaign.stdout)] == [A]

    marked = crm(app, "inbox", "outcome", "<r1@pmtoolsreview.com>", "positive")
    assert marked.exit_code == 0, marked.stderr
    assert world.prospect(A).status == ProspectStatus.NEGOTIATING

    assigned = crm(app, "inbox", "assign", "u1@mail.example", "Gantt outreach", B)
    assert assigned.exit_code == 0, assigned.stderr
    assert "stopped the sequence of editor@ganttguide.org (replied)" in assigned.stdout
    assert world.enrollment(B).state == EnrollmentState.STOPPED
    by_id = crm(app, "inbox", "outcome", str(inbound()[1].id), "negative")
    assert by_id.exit_code == 0, by_id.stderr

    shown = crm(app, "prospects", "show", "Gantt outreach", B, "--format", "json")
    data = json.loads(shown.stdout)
    assert [m["message_id"] for m in data["inbound"]] == ["<u1@mail.example>"]
    assert data["inbound"][0]["outcome"] == "negative"
    assert data["inbound"][0]["match"] == "manual"
    assert data["status"] == "lost"


def test_inbox_errors_are_one_line_without_traceback(app: Flask, world: World) -> None:
    missing = crm(app, "inbox", "outcome", "<nope@x>", "positive")
    assert missing.exit_code == 1
    assert (
        missing.stderr.strip()
        == "Error: no inbound message '<nope@x>' (use its id or its Message-ID)"
    )
    assert crm(app, "inbox", "list", "--kind", "weird").exit_code == 2
    assert crm(app, "inbox", "list", "--limit", "9" * 30).exit_code == 0  # every message
    for number in ("²", "3000000000", "9" * 5000):  # no id: read as a Message-ID, not found
        odd = crm(app, "inbox", "outcome", number, "positive")
        assert odd.exit_code == 1 and odd.stderr.startswith("Error: no inbound message"), odd.stderr
