"""`crm prospects set --status` with the deal stages, as CONTRACT says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.core.suppression import suppress
from crm.core.timeline import change_status
from crm.models import Prospect, ProspectStatus
from tests.factories import ContactFactory, ProspectFactory

pytestmark = pytest.mark.postgres


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_set_status_not_a_fit_with_a_reason_moves_the_prospect(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    p = ProspectFactory(campaign=team["campaign"], domain="ads.example",
                        status=ProspectStatus.CONTACTED)  # fmt: skip
    db.session.commit()
    result = run(app, "prospects", "set", "Mine", "--domain", "ads.example",
                 "--status", "not-a-fit", "--reason", "sells links")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 prospect set to not-a-fit" in result.stdout
    db.session.refresh(p)
    assert p.status == ProspectStatus.NOT_A_FIT
    assert p.touchpoints[-1].summary == "contacted → not a fit: sells links"


def test_set_status_won_says_it_is_set_by_logging_the_link(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    ProspectFactory(campaign=team["campaign"], domain="ads.example")
    db.session.commit()
    result = run(app, "prospects", "set", "Mine", "--domain", "ads.example", "--status", "won")
    assert result.exit_code != 0
    assert "won is set by Linkgap when the won link is logged" in result.stderr
    assert "Traceback" not in result.output


def test_a_prospect_added_from_a_url_is_enrolled_with_resource_replacement_naming_its_page(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    from crm.models import Touch
    from crm.outreach.context import touch_context
    from crm.outreach.templates import render_body
    from tests.factories import ContactFactory
    from tests.outreach.factories import make_mailbox

    make_mailbox(None)
    db.session.commit()
    added = run(app, "prospects", "add", "Mine", "https://www.toolsite.example/resources/")
    assert added.exit_code == 0, added.output
    p = db.session.scalars(select(Prospect).where(Prospect.domain == "toolsite.example")).one()
    ContactFactory(prospect=p, email="ed@toolsite.example")
    db.session.commit()
    shown = json.loads(run(app, "prospects", "show", "Mine", "toolsite.example",
                           "--format", "json").stdout)  # fmt: skip
    assert shown["page"] == "https://www.toolsite.example/resources/"
    mapped = run(app, "prospects", "set", "Mine", "--domain", "toolsite.example",
                 "--target-url", team["target"].url)  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    enrolled = run(app, "enroll", "Mine", "--angle", "resource replacement",
                   "--domain", "toolsite.example")  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output
    assert "1 enrolled, 0 skipped" in enrolled.stdout
    first = db.session.scalars(select(Touch).where(Touch.step == 1)).one()
    step = first.enrollment.sequence.steps[0]
    body = render_body(step.body_template, touch_context(first))
    assert "(https://www.toolsite.example/resources/)" in body


def test_a_domain_only_prospect_is_given_its_page_by_adding_its_url(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    assert run(app, "prospects", "add", "Mine", "toolsite.example").exit_code == 0
    again = run(app, "prospects", "add", "Mine", "toolsite.example/links")
    assert again.exit_code == 0, again.output
    assert "given their page: toolsite.example" in again.stdout
    shown = json.loads(run(app, "prospects", "show", "Mine", "toolsite.example",
                           "--format", "json").stdout)  # fmt: skip
    assert shown["page"] == "https://toolsite.example/links"


def test_prospects_show_json_has_facts_contacts_and_timeline(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    prospect = ProspectFactory(campaign=team["campaign"], domain="pmtoolsreview.com")
    ContactFactory(
        prospect=prospect, email="sarah@pmtoolsreview.com", first_name="Sarah", last_name="Lee"
    )
    suppress("pmtoolsreview.com", "asked us to stop")
    change_status(prospect, ProspectStatus.QUALIFIED, reason="good fit")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["prospects", "show", "Mine", "https://www.PMToolsReview.com/x", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["domain"] == "pmtoolsreview.com"
    assert data["status"] == "qualified"
    assert data["contacts"] == [
        {
            "email": "sarah@pmtoolsreview.com",
            "name": "Sarah Lee",
            "role": "",
            "timezone": None,
            "suppressed": True,
            "bounced": False,
        }
    ]
    assert data["timeline"][0]["kind"] == "status_change"
    assert data["timeline"][0]["summary"] == "new → qualified: good fit"


def test_prospects_show_names_a_missing_prospect_in_one_line(app: Flask, team: Any) -> None:
    result = app.test_cli_runner().invoke(args=["prospects", "show", "Mine", "nope.com"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no prospect nope.com in campaign Mine"
