"""The dashboard, the builder and the CSV downloads: the same numbers as the CLI, scoped to
what the user may see, with one error per bad field and never a 500."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from flask import Flask

from crm.reports.params import ReportScope
from crm.reports.report import build_report
from crm.reports.shaping import row_json
from tests.factories import CampaignFactory, UserFactory
from tests.reports.dataset import BY_ANGLE, build_dataset


@pytest.fixture
def data(db: Any) -> Any:
    return build_dataset()


def _page(client: Any, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return str(response.get_data(as_text=True))


def test_dashboard_shows_the_numbers_the_cli_prints(app: Flask, client: Any, data: Any) -> None:
    client.login(data.morgan.email)
    html = _page(client, f"/reports?campaign={data.campaign.id}")
    cli = app.test_cli_runner().invoke(
        args=["report", "Reports", "--by", "angle", "--format", "json"]
    )
    rows = {r["angle"]: r for r in json.loads(cli.stdout)}
    rr = rows["resource replacement"]
    table = html[html.index('id="table-angle"') :]
    table = table[: table.index("</table>")]
    assert "resource replacement" in table
    assert f"{rr['replied']} of {rr['contacted']}" in table  # reply rate's counts: 3 of 4
    assert "75.0%" in table and "66.7%" in table  # reply 3/4, placement 2/3
    assert "How is this counted?" in html
    assert "without any email from us" in html  # P4's link: placed, outside the rate
    assert 'id="chart-data-angle"' in html
    assert rr["contacted"] == BY_ANGLE["resource replacement"][0]


def test_angle_by_tier_table_and_forecast_are_on_the_dashboard(client: Any, data: Any) -> None:
    client.login(data.morgan.email)
    html = _page(client, f"/reports?campaign={data.campaign.id}&goal=10")
    assert "resource replacement × tier 1" not in html  # two columns, not a joined label
    section = html[html.index('id="table-angle-tier"') :]
    assert "broken link" in section and "tier 2" in section
    assert "To reach <strong>10</strong> links this quarter" in html or "is covered" in html


def test_specialists_see_only_their_own_numbers(client: Any, data: Any) -> None:
    client.login(data.sam.email)
    html = _page(client, "/reports/builder?by=specialist")
    assert "Sam Specialist" in html
    assert "Morgan Manager" not in html
    assert 'name="specialist"' not in html  # no team picker for a specialist


def test_a_campaign_the_user_may_not_see_gives_404_and_no_data(client: Any, data: Any) -> None:
    other = CampaignFactory(name="Secret")
    from crm.extensions import db

    db.session.commit()
    client.login(data.sam.email)
    html = _page(client, f"/reports?campaign={other.id}", 404)
    assert "Campaign: no campaign you may see has this id" in html
    assert 'id="table-angle"' not in html
    assert client.get(f"/reports/export/angle.csv?campaign={other.id}").status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("by=colour", "by", "Breakdown: unknown breakdown &#39;colour&#39;"),
        ("from=2026-10-31&to=2026-10-01", "to", "To: 2026-10-01 is before the start 2026-10-31"),
        ("from=31/10/2026", "from", "From: &#39;31/10/2026&#39; is not a date"),
        ("campaign=abc", "campaign", "Campaign: &#39;abc&#39; is not a number"),
        ("campaign=99999999999999999999999", "campaign", "Campaign: "),
        ("specialist=-1", "specialist", "Specialist: "),
    ],
)
def test_bad_filters_are_one_error_next_to_their_field(
    client: Any, data: Any, query: str, field: str, message: str
) -> None:
    client.login(data.morgan.email)
    status = 404 if "999" in query else 400  # a well-formed id nobody may see: not found
    html = _page(client, f"/reports/builder?{query}", status)
    assert message in html
    assert 'id="table-report"' not in html
    assert client.get(f"/reports/export/report.csv?{query}").status_code == status


def test_builder_with_two_breakdowns_and_its_csv(client: Any, data: Any) -> None:
    client.login(data.morgan.email)
    url = f"campaign={data.campaign.id}&by=angle&by2=tier"
    html = _page(client, f"/reports/builder?{url}")
    assert 'id="table-report"' in html
    response = client.get(f"/reports/export/report.csv?{url}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = [
        row_json(r) for r in build_report(("angle", "tier"), ReportScope((data.campaign.id,)))
    ]
    assert [(r["angle"], r["tier"], r["contacted"], r["placement_rate"]) for r in sheet] == [
        (e["angle"], str(e["tier"]), str(e["contacted"]), str(e["placement_rate"]))
        for e in expected
    ]


@pytest.mark.parametrize("name", ["angle", "tier", "angle-tier", "funnel", "weekly", "anchors",
                                  "health", "forecast"])  # fmt: skip
def test_every_dashboard_chart_has_its_csv(client: Any, data: Any, name: str) -> None:
    client.login(data.morgan.email)
    response = client.get(f"/reports/export/{name}.csv?campaign={data.campaign.id}")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) >= 2


def test_csv_cells_that_look_like_formulas_are_escaped(client: Any, data: Any) -> None:
    from crm.extensions import db
    from crm.models import Angle

    angle = db.session.query(Angle).filter_by(slug="resource-replacement").one()
    angle.label = "=HYPERLINK(1)"
    db.session.commit()
    client.login(data.morgan.email)
    text = client.get("/reports/export/angle.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_empty_workspace_says_what_to_do_next(client: Any, db: Any) -> None:
    manager = UserFactory(role="manager")
    CampaignFactory(name="Fresh")
    db.session.commit()
    client.login(manager.email)
    html = _page(client, "/reports")
    assert "No prospects yet" in html
    assert "<canvas" not in html
    html = _page(client, "/reports/builder")
    assert "Nothing to count" in html


def test_chart_json_carries_intervals(client: Any, data: Any) -> None:
    client.login(data.morgan.email)
    html = _page(client, f"/reports?campaign={data.campaign.id}")
    found = re.search(
        r'<script type="application/json" id="chart-data-angle">(.*?)</script>', html, re.S
    )
    assert found is not None
    chart = json.loads(found.group(1))
    assert chart["kind"] == "rates"
    point = chart["series"][0]["points"][chart["labels"].index("resource replacement")]
    assert (point["count"], point["of"]) == (3, 4)
    assert 0 < point["low"] < point["value"] < point["high"] <= 1


def test_sections_without_data_say_what_to_do(client: Any, db: Any) -> None:
    from datetime import UTC, datetime

    from tests.factories import ContactFactory, ProspectFactory
    from tests.outreach.factories import MailboxFactory
    from tests.reports.factories import enrollment

    manager = UserFactory(role="manager")
    campaign = CampaignFactory(name="Young")
    prospect = ProspectFactory(campaign=campaign, tier=1)
    enrollment(prospect, ContactFactory(prospect=prospect), MailboxFactory(),
               angle="broken-link", sent=[datetime(2026, 10, 5, tzinfo=UTC)],
               stop_reason=None)  # fmt: skip
    db.session.commit()
    client.login(manager.email)
    html = _page(client, f"/reports?campaign={campaign.id}")
    assert "No won links yet" in html
    assert 'id="chart-anchors"' not in html
    assert 'id="table-angle"' in html
