"""The gap table: filters, sorting links, bulk actions, export; cheap per request."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.gap.queries import SORTS, GapFilter
from crm.models import GapImport, ImportState, Prospect, ProspectStatus
from crm.web.access import is_campaign_member
from crm.web.gap.table import sort_urls
from crm.web.helpers import Options
from tests.fixtures.gap import ImportFn
from tests.web.gap.uploads import upload

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
        f"/campaigns/{team['campaign'].id}/gap?status=contacted&link_type=roundup"
        "&category=best&category=unique&q=a%26b"
    ).get_data(as_text=True)
    assert '<option value="contacted" selected>contacted</option>' in page
    assert '<option value="roundup" selected>roundup/listicle</option>' in page
    bulk = page[page.index('id="bulk"') :]
    for name, value in [("status", "contacted"), ("link_type", "roundup"), ("category", "best"),
                        ("category", "unique"), ("q", "a&amp;b"), ("sort", "score")]:  # fmt: skip
        assert f'<input type="hidden" name="{name}" value="{value}">' in bulk
    assert '<option value="unwinnable">Mark unwinnable</option>' in bulk


def test_run_then_filter_tier_1_dr_50_dofollow_and_export_the_view(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = upload(client, campaign.id, list(exports.values())).headers["Location"]
    import_id = int(show.rstrip("/").split("/")[-1])
    response = client.post_form(f"{show}/run", page=show)
    assert response.status_code == 302
    page = client.get(show).get_data(as_text=True)
    assert "done" in page and 'id="gap-count">9<' in page
    url = f"/campaigns/{campaign.id}/gap?tier=1&min_authority=50&dofollow=1"
    page = client.get(url).get_data(as_text=True)
    shown = re.findall(
        r'name="prospect_id" value="\d+" form="bulk" aria-label="select ([^"]+)"', page
    )
    assert shown == ["alpha.com", "beta.co.uk"]
    hidden = client.get(url + "&hidden=only").get_data(as_text=True)
    assert "flagged as spam" in hidden and "directory" in hidden
    exported = client.get(
        f"/campaigns/{campaign.id}/gap/export.csv?tier=1&min_authority=50&dofollow=1"
    )
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["domain"] for r in rows] == ["alpha.com", "beta.co.uk"]
    assert rows[0]["competitors"] == "rival-a.com; rival-b.com; rival-c.com; toolreview.example"
    assert db.session.get(GapImport, import_id).state == ImportState.DONE


def test_bulk_actions_on_all_matching_map_target_and_angle_and_qualify(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    base = {"tier": "1", "scope": "all"}
    for data in (
        {"action": "map_target", "target_id": str(team["target"].id)},
        {"action": "set_angle", "angle": "resource-replacement"},
        {"action": "qualify"},
    ):
        response = client.post_form(f"{table}/bulk", {**base, **data}, page=table)
        assert response.status_code == 302
    tier1 = db.session.scalars(
        select(Prospect).where(Prospect.tier == 1, Prospect.excluded_by.is_(None))
    ).all()
    assert len(tier1) == 4
    for p in tier1:
        db.session.refresh(p)
        assert p.target_page_id == team["target"].id and p.target_confirmed
        assert p.angle == "resource-replacement" and p.status == ProspectStatus.QUALIFIED
    others = db.session.scalars(select(Prospect).where(Prospect.tier == 2)).all()
    assert all(p.status == ProspectStatus.NEW for p in others)


def test_target_page_and_angle_are_set_in_one_bulk_pass_and_apply_returns_to_the_results(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    data = {"tier": "1", "scope": "all", "action": "map_target_angle",
            "target_id": str(team["target"].id), "angle": "resource-replacement"}  # fmt: skip
    response = client.post_form(f"{table}/bulk", data, page=table)
    assert response.status_code == 302 and response.headers["Location"].endswith("#results")
    tier1 = db.session.scalars(
        select(Prospect).where(Prospect.tier == 1, Prospect.excluded_by.is_(None))
    ).all()
    assert len(tier1) == 4
    for p in tier1:
        db.session.refresh(p)
        assert p.target_page_id == team["target"].id and p.angle == "resource-replacement"


def test_the_view_count_says_how_many_the_rules_hide_and_tier_is_explained(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    page = client.get(table).get_data(as_text=True)
    count = page[page.index('id="view-count"') :]
    count = count[: count.index("</p>")]
    shown = int(re.search(r"<strong>(\d+) prospects?</strong> in this view", count).group(1))
    hidden = int(re.search(r"; (\d+) more hidden by the rules", count).group(1))
    assert hidden > 0
    everything = client.get(f"{table}?hidden=all").get_data(as_text=True)
    assert f"<strong>{shown + hidden} prospects</strong> in this view." in everything
    assert f"Export CSV of this view ({shown})" in page
    assert 'title="Tier 1: links to every competitor' in page
    authorities = re.findall(
        r'</td><td class="num">([^<]+)</td><td class="num">[^<]*</td><td>', page
    )
    assert authorities and all(re.fullmatch(r"\d+\.\d|—", a) for a in authorities), authorities


def test_enroll_hands_the_selection_to_the_enroll_page(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    ids = [p.id for p in db.session.scalars(select(Prospect).where(Prospect.tier == 2))]
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    response = client.post_form(
        f"{table}/bulk", {"action": "enroll", "prospect_id": [str(i) for i in ids]}, page=table
    )
    # The page answers the form itself: 2,000 ids in a redirect's URL would be refused
    # by a proxy's header limit (nginx: 8 KB).
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"<strong>{len(ids)}</strong> prospects" in page
    assert f'action="/campaigns/{campaign.id}/enroll"' in page
    listed = re.findall(r'name="prospect_id" value="(\d+)"', page)
    assert sorted(int(v) for v in listed) == sorted(ids)


def test_enrolling_more_matching_than_the_enroll_page_takes_says_which_ones_it_got(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import crm.web.gap.table

    monkeypatch.setattr(crm.web.gap.table, "ENROLL_LIMIT", 2)
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    response = client.post_form(
        f"{table}/bulk", {"tier": "1", "scope": "all", "action": "enroll"}, page=table
    )
    first_two = db.session.scalars(
        select(Prospect.id).where(Prospect.tier == 1, Prospect.excluded_by.is_(None))
        .order_by(Prospect.score.desc(), Prospect.id.desc()).limit(2)
    ).all()  # fmt: skip
    page = response.get_data(as_text=True)
    listed = re.findall(r'name="prospect_id" value="(\d+)"', page)
    assert sorted(int(v) for v in listed) == sorted(first_two)
    assert (
        "The enroll page takes 2 prospects at a time: these are the first 2 of the 4 matching, "
        "in the table&#39;s order." in page
    )


def test_the_bulk_form_takes_only_the_gap_tables_actions(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    before = {p.id: p.score for p in db.session.scalars(select(Prospect))}
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    # Applying the rules again follows a manager's change of them, never a specialist's form.
    response = client.post_form(f"{table}/bulk", {"scope": "all", "action": "apply_rules"},
                                page=table)  # fmt: skip
    assert "Choose an action." in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert {p.id: p.score for p in db.session.scalars(select(Prospect))} == before


@pytest.mark.parametrize("assignee", ["²", "9" * 5000])
def test_an_assignee_id_that_names_nobody_is_refused_on_the_form(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn,
    assignee: str,
) -> None:  # fmt: skip
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    ids = [str(p.id) for p in db.session.scalars(select(Prospect).where(Prospect.tier == 1))]
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    data = {"action": "assign", "assignee": assignee, "prospect_id": ["²", "9" * 5000, *ids]}
    response = client.post_form(f"{table}/bulk", data, page=table)
    assert response.status_code == 302
    assert "choose whom to assign to" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert db.session.scalars(select(Prospect.assigned_to_id)).all() == [None] * len(
        db.session.scalars(select(Prospect.id)).all()
    )


def test_ticked_rows_are_read_up_to_the_longest_page_and_no_further(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    from crm.gap.queries import PER_PAGE_CHOICES
    from tests.factories import ProspectFactory

    first, past = (ProspectFactory(campaign=team["campaign"], domain=f"{name}.example",
                                   tier=1, in_gap=True) for name in ("first", "past"))  # fmt: skip
    db.session.commit()
    client.login(team["specialist"].email)
    table = f"/campaigns/{team['campaign'].id}/gap"
    fillers = [str(10**6 + i) for i in range(max(PER_PAGE_CHOICES) - 1)]
    ids = [str(first.id), *fillers, str(past.id), *fillers]  # `past` is one row too far
    response = client.post_form(f"{table}/bulk", {"action": "qualify", "prospect_id": ids},
                                page=table)  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert (first.status, past.status) == (ProspectStatus.QUALIFIED, ProspectStatus.NEW)
