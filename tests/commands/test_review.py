"""`crm review mode/list/approve` and `crm touches edit` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import Touch
from tests.outreach.factories import enroll_all, make_campaign, make_mailbox, make_prospects

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def run(app: Flask, *args: str, stdin: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def test_review_holds_first_emails_lists_them_and_approves_by_domain(app: Flask) -> None:
    campaign, target = make_campaign()
    make_mailbox(None)
    db.session.commit()
    assert run(app, "review", "mode", "Gantt outreach", "on").exit_code == 0
    enroll_all(make_prospects(campaign, target, 2), NOW)
    listed = run(app, "review", "list", "Gantt outreach", "--format", "json")
    assert [r["domain"] for r in json.loads(listed.stdout)] == ["site0.example", "site1.example"]
    approved = run(app, "review", "approve", "Gantt outreach", "--domain", "site1.example")
    assert approved.exit_code == 0 and "1 first email approved" in approved.stdout
    listed = run(app, "review", "list", "Gantt outreach", "--format", "json")
    assert [r["domain"] for r in json.loads(listed.stdout)] == ["site0.example"]
    nothing = run(app, "review", "approve", "Gantt outreach")
    assert nothing.exit_code == 1 and "choose --domain D (repeatable) or --all" in nothing.stderr


def test_touches_edit_keeps_a_body_for_one_touch_and_resets_it(app: Flask) -> None:
    campaign, target = make_campaign()
    make_mailbox(None)
    enrollment = enroll_all(make_prospects(campaign, target, 1), NOW).enrolled[0]
    first = next(t for t in enrollment.touches if t.step == 1)
    edited = run(app, "touches", "edit", first.message_id, "--body-file", "-",
                 stdin="Hi {{ contact.first_name }}, just for you.")  # fmt: skip
    assert edited.exit_code == 0, edited.output
    assert "Hi Sam, just for you." in edited.stdout
    db.session.expire_all()
    assert (
        db.session.get(Touch, first.id).body_override
        == "Hi {{ contact.first_name }}, just for you."
    )
    bad = run(app, "touches", "edit", first.message_id, "--subject", "Hi {{ nope.x }}")
    assert bad.exit_code == 1 and "subject line 1" in bad.stderr
    assert run(app, "touches", "edit", first.message_id, "--reset").exit_code == 0
    db.session.expire_all()
    assert db.session.get(Touch, first.id).body_override is None
