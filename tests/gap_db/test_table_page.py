"""The gap table page stays cheap per request and shows what it did before it was made so."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from crm.gap.queries import SORTS, TABLE_COLUMNS, GapFilter, TableRow, page_of
from crm.models import Prospect
from crm.web.access import is_campaign_member
from crm.web.gap.table import sort_urls
from crm.web.helpers import Options

pytestmark = pytest.mark.postgres

VIEWS = [
    "",
    "tier=2&min_authority=30&dofollow=1&sort=authority&dir=desc&page=3",
    "view=all&hidden=all&q=a+b%26c/d&category=best&category=unique&sort=domain&dir=asc",
    "status=new&link_type=unknown&min_overlap=2&max_authority=50.5&min_traffic=10",
]


@pytest.mark.parametrize("query", VIEWS)
def test_sort_links_are_the_urls_url_for_builds(app: Flask, query: str) -> None:
    view = GapFilter.from_args(MultiDict([tuple(p.split("=", 1)) for p in query.split("&") if p]))
    with app.test_request_context():
        base = url_for("gap.table", campaign_id=7)
        expected = {
            column: url_for("gap.table", campaign_id=7, per_page=25,
                            **view.sorted_by(column).query_args())
            for column in SORTS
        }  # fmt: skip
        assert sort_urls(view, base, 25) == expected


def test_a_page_is_named_tuples_of_the_table_columns(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    db.session.add(Prospect(campaign_id=campaign.id, domain="alpha.com", in_gap=True, score=0.5))
    db.session.commit()
    rows, total = page_of(campaign.id, GapFilter(), 1, 50)
    assert total == 1
    assert [type(r) for r in rows] == [TableRow]
    assert rows[0].domain == "alpha.com" and rows[0].score == 0.5
    assert [c.key for c in TABLE_COLUMNS] == list(TableRow._fields)


def test_membership_is_one_exists_per_user_and_campaign(db: Any, team: dict[str, Any]) -> None:
    specialist = team["specialist"]
    assert is_campaign_member(specialist.id, team["campaign"].id)
    assert not is_campaign_member(specialist.id, team["other_campaign"].id)
    assert not is_campaign_member(team["manager"].id, team["campaign"].id)


def test_a_member_specialist_sees_the_table_and_a_stranger_gets_403(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    assert client.get(f"/campaigns/{team['campaign'].id}/gap").status_code == 200
    assert client.get(f"/campaigns/{team['other_campaign'].id}/gap").status_code == 403


def test_options_are_escaped_once_and_mark_the_selected_value() -> None:
    options = Options([("a", "A & co"), ('"b"', "<b>")])
    assert (
        options()
        == '<option value="a">A &amp; co</option><option value="&#34;b&#34;">&lt;b&gt;</option>'
    )
    assert options("a").startswith('<option value="a" selected>A &amp; co</option>')
    assert isinstance(options(), Markup)


def test_the_filter_and_bulk_bars_keep_the_view(client: Any, team: dict[str, Any]) -> None:
    client.login(team["manager"].email)
    page = client.get(
        f"/campaigns/{team['campaign'].id}/gap?status=in_sequence&link_type=roundup"
        "&category=best&category=unique&q=a%26b"
    ).get_data(as_text=True)
    assert '<option value="in_sequence" selected>in sequence</option>' in page
    assert '<option value="roundup" selected>roundup/listicle</option>' in page
    bulk = page[page.index('id="bulk"') :]
    for name, value in [("status", "in_sequence"), ("link_type", "roundup"), ("category", "best"),
                        ("category", "unique"), ("q", "a&amp;b"), ("sort", "score")]:  # fmt: skip
        assert f'<input type="hidden" name="{name}" value="{value}">' in bulk
    assert '<option value="unwinnable">Mark unwinnable</option>' in bulk
