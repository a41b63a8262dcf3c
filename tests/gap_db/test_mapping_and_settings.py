"""A CSV nobody recognises is mapped by hand (and the mapping saved); rules and weights
are set per campaign and applied to every prospect with their reasons."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.gap.sample_exports import generic_bytes
from crm.models import ColumnMapping, GapImport, ImportState, Prospect
from tests.gap_db.conftest import ImportFn

pytestmark = pytest.mark.postgres

AGENCY_CSV = generic_bytes(
    ["Linking URL", "Points to", "Rating", "Visits"],
    [["https://www.curated.example.com/tools/", "https://rival-a.com/guide", "61", "1,200"],
     ["https://blog.other.example.net/post", "https://rival-a.com/", "35", "90"]],
)  # fmt: skip


def _upload(client: Any, campaign_id: int, name: str, data: bytes) -> str:
    token = client.csrf_token(f"/campaigns/{campaign_id}/gap/import")
    response = client.post(
        f"/campaigns/{campaign_id}/gap/import",
        data={"csrf_token": token, "files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return str(response.headers["Location"])


def test_an_unknown_csv_is_mapped_saved_and_the_mapping_reused(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = _upload(client, campaign.id, "agency-list.csv", AGENCY_CSV)
    page = client.get(show).get_data(as_text=True)
    assert "not an export Linkgap knows" in page and "Map its columns" in page
    assert '<option value="Linking URL"' in page
    mapping = {"map_url": "Linking URL", "map_target_url": "Points to",
               "map_authority": "Rating", "map_traffic": "Visits"}  # fmt: skip
    client.post_form(f"{show}/files/0", {**mapping, "save_as": "Agency list"}, page=show)
    page = client.get(show).get_data(as_text=True)
    assert "Generic CSV (mapped columns)" in page and "rival-a.com" in page
    saved = db.session.scalar(select(ColumnMapping))
    assert saved.name == "Agency list" and saved.mapping["url"] == "Linking URL"
    client.post_form(f"{show}/run", page=show)
    prospects = {p.domain: p for p in db.session.scalars(select(Prospect))}
    assert prospects["example.com"].authority == 61 and prospects["example.com"].traffic == 1200
    assert prospects["example.com"].in_gap and prospects["example.com"].tier == 3

    again = _upload(client, campaign.id, "agency-list-2.csv", AGENCY_CSV)
    client.post_form(f"{again}/files/0", {"saved_mapping": str(saved.id)}, page=again)
    client.post_form(f"{again}/run", page=again)
    states = [i.state for i in db.session.scalars(select(GapImport).order_by(GapImport.id))]
    assert states == [ImportState.DONE, ImportState.DONE]


def test_a_file_of_a_foreign_site_is_refused_next_to_it_until_its_owner_is_set(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    from crm.gap.sample_exports import SampleLink, semrush_backlinks_bytes

    campaign = team["campaign"]
    client.login(team["specialist"].email)
    data = semrush_backlinks_bytes(
        [SampleLink("https://x.example.org/a", "https://elsewhere.example.net/", authority=9)]
    )
    show = _upload(client, campaign.id, "semrush.csv", data)
    page = client.get(show).get_data(as_text=True)
    assert "this export is for example.net, which is neither the campaign&#39;s site" in page
    assert "disabled" in page.split('id="run-import"')[1][:600]
    client.post_form(f"{show}/files/0", {"owner": "rival-b.com"}, page=show)
    page = client.get(show).get_data(as_text=True)
    assert "set by you" in page and "file-error" not in page


def test_rules_and_weights_are_applied_to_every_prospect_with_their_reason(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["manager"].email)  # managers only (see tests/web/routes/gap.py)
    url = f"/campaigns/{campaign.id}/gap/settings"
    form = {"min_overlap": "2", "min_authority": "50", "exclude_spam": "y",
            "exclude_paid_or_ugc_only": "y", "directory": "y", "exclude_tlds": "io, xyz",
            "languages": "", "blocklist": "beta.co.uk", "keywords": "kanban",
            "weight_authority": "1", "weight_relevance": "0",
            "weight_feasibility": "0"}  # fmt: skip
    response = client.post_form(url, form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    p = {x.domain: x for x in db.session.scalars(select(Prospect))}
    assert p["epsilon.io"].in_gap is False and p["epsilon.io"].tier is None  # overlap 1 < 2
    assert p["beta.co.uk"].excluded_by == "blocklist"
    assert p["spammy.xyz"].excluded_by == "spam"  # the first rule that matches
    assert p["delta.net"].excluded_by == "min_authority"
    assert p["delta.net"].excluded_note == "authority 40 is below 50"
    assert p["alpha.com"].excluded_by is None and p["alpha.com"].score == 0.72  # DR only
    bad = client.post_form(url, {**form, "weight_authority": "0"})
    assert bad.status_code == 200 and "at least one score weight" in bad.get_data(as_text=True)
