"""The gap in the browser's HTTP terms: upload, review, run, filter, bulk actions, export."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.models import GapImport, ImportState, Prospect, ProspectStatus
from tests.gap_db.conftest import ImportFn
from tests.gap_db.exports import SITE

pytestmark = pytest.mark.postgres


def _upload(client: Any, campaign_id: int, paths: list[Path]) -> Any:
    token = client.csrf_token(f"/campaigns/{campaign_id}/gap/import")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in paths]
    return client.post(
        f"/campaigns/{campaign_id}/gap/import",
        data={"csrf_token": token, "files": files},
        content_type="multipart/form-data",
    )


def test_upload_shows_what_was_detected_per_file_before_anything_is_imported(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    response = _upload(client, campaign.id, list(exports.values()))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ahrefs Backlinks (current)" in page and "UTF-16LE" in page and "TAB" in page
    assert "Semrush Backlinks" in page and "Google Search Console Top linking sites" in page
    assert "from its file name" in page and "from its Target URL column" in page
    assert db.session.scalar(select(Prospect.id)) is None
    gap_import = db.session.scalar(select(GapImport))
    assert gap_import.state == ImportState.PENDING
    assert (Path(gap_import.files[0]["path"]).parent.parts[-2:]) == ("imports", str(gap_import.id))


def test_run_then_filter_tier_1_dr_50_dofollow_and_export_the_view(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = _upload(client, campaign.id, list(exports.values())).headers["Location"]
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


def test_hidden_prospect_shows_why_and_is_restored_from_its_page(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    spammy = db.session.scalar(select(Prospect).where(Prospect.domain == "spammy.xyz"))
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{spammy.id}"
    page = client.get(url).get_data(as_text=True)
    assert "flagged as spam" in page and "the SEO tool flags this domain as spam" in page
    assert "rival-a.com" in page and "Links links links" in page  # evidence by competitor
    response = client.post_form(f"{url}/gap/visibility", {"action": "restore"}, page=url)
    assert response.status_code == 302
    db.session.refresh(spammy)
    assert spammy.excluded_by is None and spammy.restored


def test_campaign_page_shows_the_diff_and_reminds_when_the_snapshot_is_stale(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    from datetime import timedelta

    campaign = team["campaign"]
    first = import_files(campaign, exports.values())
    first.finished_at = first.finished_at - timedelta(days=200)
    db.session.commit()
    client.login(team["specialist"].email)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="stale-reminder"' in page and "200 days old" in page
    del exports[SITE]
    import_files(campaign, exports.values())
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="stale-reminder"' not in page and 'id="snapshot-diff"' in page


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
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/campaigns/{campaign.id}/enroll?")
    assert sorted(int(v) for v in re.findall(r"prospect_id=(\d+)", location)) == sorted(ids)
    page = client.get(location).get_data(as_text=True)
    assert f"<strong>{len(ids)}</strong> prospects" in page
