"""One prospect as scripts and people see it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from crm.core.suppression import suppress
from crm.core.timeline import change_status
from crm.models import ProspectStatus
from tests.factories import ContactFactory, ProspectFactory

pytestmark = pytest.mark.postgres


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


def test_prospect_page_shows_its_timeline(client: Any, db: Any, team: dict[str, Any]) -> None:
    prospect = ProspectFactory(campaign=team["campaign"], domain="example.org")
    change_status(prospect, ProspectStatus.QUALIFIED)
    db.session.commit()
    client.login(team["specialist"].email)
    html = client.get(f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}").get_data(
        as_text=True
    )
    assert "example.org" in html
    assert "new → qualified" in html
