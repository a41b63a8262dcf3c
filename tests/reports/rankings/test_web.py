"""Reports › Rankings: import dated exports, see each target page's movement after its links."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.factories import CampaignFactory, ProspectFactory, TargetPageFactory, UserFactory
from tests.reports.factories import won_link
from tests.reports.rankings.files import TRACKER, gsc_zip, text_file


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    sam = UserFactory(role="specialist", email="sam@linkgap.example")
    campaign = CampaignFactory(name="Ranks", members=[sam])
    page = TargetPageFactory(campaign=campaign, url="https://sample-site.example/kanban-guide",
                             title="Kanban guide")  # fmt: skip
    prospect = ProspectFactory(campaign=campaign)
    won_link(prospect, date(2026, 9, 1), target_url=page.url, target_page_id=page.id)
    other = CampaignFactory(name="Hidden")
    db.session.commit()
    return {"sam": sam, "campaign": campaign, "page": page, "other": other}


def _upload(client: Any, campaign_id: int, path: Path, as_of: str) -> Any:
    with path.open("rb") as handle:
        return client.post_form(
            "/reports/rankings",
            {"campaign": str(campaign_id), "as_of": as_of, "file": (handle, path.name)},
            content_type="multipart/form-data",
        )


def test_two_dated_imports_show_the_change_after_the_link(
    client: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    client.login(world["sam"].email)
    cid = world["campaign"].id
    before = text_file(tmp_path, "before.csv", "Page,Clicks,Impressions,Position\n"
                       "https://sample-site.example/kanban-guide/,100,9000,14.0\n")  # fmt: skip
    assert _upload(client, cid, before, "2026-08-30").status_code == 302
    imported = _upload(client, cid, gsc_zip(tmp_path), "2026-10-01")
    assert imported.status_code == 302
    html = client.get(imported.location).get_data(as_text=True)
    assert "Imported 3 rows from" in html and "Search Console, as of 2026-10-01" in html
    table = html[html.index('id="table-rankings"') :]
    assert "Kanban guide" in table and "2026-09-01" in table
    assert "-5.6" in table  # 14.0 on 08-30, 8.4 on 10-01 (30 days after 09-01)
    assert "+1140 clicks" in table
    assert 'id="chart-data-ranking"' in html


def test_a_broken_file_is_named_next_to_the_field_and_nothing_is_stored(
    client: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    client.login(world["sam"].email)
    bad = text_file(tmp_path, "bad.csv", "Page,Position\nhttps://a.example/x,abc\n")
    response = _upload(client, world["campaign"].id, bad, "2026-10-01")
    assert response.status_code == 400
    assert "bad.csv, line 2, column &#34;Position&#34;: expected a position" in response.get_data(
        as_text=True
    )
    from crm.extensions import db
    from crm.models import RankImport

    assert db.session.query(RankImport).count() == 0


def test_tracker_csv_and_removing_an_import(
    client: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    from crm.extensions import db
    from crm.models import RankImport, RankObservation

    client.login(world["sam"].email)
    assert _upload(client, world["campaign"].id, text_file(tmp_path, "t.csv", TRACKER),
                   "2026-10-02").status_code == 302  # fmt: skip
    record = db.session.query(RankImport).one()
    assert record.source.value == "tracker" and record.rows == 3
    page = f"/reports/rankings?campaign={world['campaign'].id}"
    response = client.post_form(f"/reports/rankings/{record.id}/delete", page=page)
    assert response.status_code == 302
    assert db.session.query(RankObservation).count() == 0


def test_a_campaign_the_user_may_not_see_is_not_found(
    client: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    client.login(world["sam"].email)
    assert client.get(f"/reports/rankings?campaign={world['other'].id}").status_code == 404
    path = text_file(tmp_path, "t.csv", TRACKER)
    assert _upload(client, world["other"].id, path, "2026-10-02").status_code in (400, 404)
