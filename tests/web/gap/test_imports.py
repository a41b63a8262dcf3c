"""The import pages: upload, review what was detected, map unknown columns, run in the
background with a progress bar."""

from __future__ import annotations

import gc
import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.gap.gc_tuning import IMPORT_THRESHOLD
from crm.gap.sample_exports import generic_bytes
from crm.models import ColumnMapping, GapImport, ImportState, Prospect, utcnow
from tests.fixtures.gap import Checkpoint
from tests.web.gap.uploads import upload, upload_one

pytestmark = pytest.mark.postgres


def test_upload_shows_what_was_detected_per_file_before_anything_is_imported(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    response = upload(client, campaign.id, list(exports.values()))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ahrefs Backlinks (current)" in page and "UTF-16LE" in page and "TAB" in page
    assert "Semrush Backlinks" in page and "Google Search Console Top linking sites" in page
    assert "from its file name" in page and "from its Target URL column" in page
    assert db.session.scalar(select(Prospect.id)) is None
    gap_import = db.session.scalar(select(GapImport))
    assert gap_import.state == ImportState.PENDING
    assert (Path(gap_import.files[0]["path"]).parent.parts[-2:]) == ("imports", str(gap_import.id))


AGENCY_CSV = generic_bytes(
    ["Linking URL", "Points to", "Rating", "Visits"],
    [["https://www.curated.example.com/tools/", "https://rival-a.com/guide", "61", "1,200"],
     ["https://blog.other.example.net/post", "https://rival-a.com/", "35", "90"]],
)  # fmt: skip


def test_an_unknown_csv_is_mapped_saved_and_the_mapping_reused(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = upload_one(client, campaign.id, "agency-list.csv", AGENCY_CSV)
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

    again = upload_one(client, campaign.id, "agency-list-2.csv", AGENCY_CSV)
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
    show = upload_one(client, campaign.id, "semrush.csv", data)
    page = client.get(show).get_data(as_text=True)
    assert "this export is for example.net, which is neither the campaign&#39;s site" in page
    assert "disabled" in page.split('id="run-import"')[1][:600]
    client.post_form(f"{show}/files/0", {"owner": "rival-b.com"}, page=show)
    page = client.get(show).get_data(as_text=True)
    assert "set by you" in page and "file-error" not in page


def test_a_big_import_runs_in_a_thread_and_the_page_polls_its_progress(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    after_each_batch: Callable[[Checkpoint], None],
) -> None:  # fmt: skip
    app.config["GAP_INLINE_MAX_BYTES"] = 0  # these small files too
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    after_each_batch(lambda done, total: during.append(gc.get_threshold()))
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    token = client.csrf_token(f"/campaigns/{campaign.id}/gap/import")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in exports.values()]
    show = client.post(
        f"/campaigns/{campaign.id}/gap/import",
        data={"csrf_token": token, "files": files},
        content_type="multipart/form-data",
    ).headers["Location"]
    client.post_form(f"{show}/run", page=show)
    deadline = time.monotonic() + 30
    while True:
        fragment = client.get(f"{show}/progress", headers={"HX-Request": "true"})
        if fragment.headers.get("HX-Redirect"):
            break
        assert "<progress" in fragment.get_data(as_text=True)
        assert time.monotonic() < deadline, "the import never finished"
        time.sleep(0.1)
    assert fragment.headers["HX-Redirect"] == show.replace("http://localhost", "")
    db.session.expire_all()
    gap_import = db.session.scalar(select(GapImport))
    assert gap_import.state == ImportState.DONE, gap_import.error
    assert gap_import.bytes_done == gap_import.bytes_total > 0
    assert db.session.scalar(select(func.count()).select_from(Prospect)) == 12
    # Cycles collected less often while the import ran (process-wide), as before after.
    assert during and all(t[0] >= IMPORT_THRESHOLD for t in during)
    assert gc.get_threshold() == before


class TestUploadLimits:
    """The import pages take exports as large as real ones, and nothing bigger or hostile."""

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "MAX_CONTENT_LENGTH": 64 << 10, "GAP_UPLOAD_MAX_BYTES": 256 << 10}

    def test_a_signed_in_upload_may_exceed_the_app_limit_up_to_the_upload_limit(
        self, db: Any, client: Any, team: dict[str, Any]
    ) -> None:
        campaign = team["campaign"]
        rows = [[f"https://site{i}.example.org/post", "https://rival-a.com/", "40", "10"]
                for i in range(2500)]  # fmt: skip
        export = generic_bytes(["Linking URL", "Points to", "Rating", "Visits"], rows)
        # Below 500 KB, where the test client would spool the body to a file it leaves open.
        assert 64 << 10 < len(export) < 256 << 10 < len(export) * 3 < 500 << 10
        client.login(team["specialist"].email)
        assert upload(client, campaign.id, [("agency.csv", export)]).status_code == 302
        response = upload(client, campaign.id, [("agency.csv", export * 3)])
        assert response.status_code == 413
        assert "larger than this server accepts" in response.get_data(as_text=True)

    def test_an_anonymous_upload_keeps_the_app_limit(
        self, db: Any, client: Any, team: dict[str, Any]
    ) -> None:
        response = client.post(
            f"/campaigns/{team['campaign'].id}/gap/import",
            data={"files": [(io.BytesIO(b"x" * (128 << 10)), "big.csv")]},
            content_type="multipart/form-data",
        )
        # Refused before its body is read: sent to sign in (never the signed-in limit).
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_a_zip_bomb_is_refused_on_the_import_page_with_a_clear_message(
        self, db: Any, client: Any, team: dict[str, Any]
    ) -> None:
        packed = io.BytesIO()
        with (
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("rival-a.com-backlinks.csv", "w") as out,
        ):
            for _ in range(30):
                out.write(b"a" * (1 << 20))
        assert len(packed.getvalue()) < 64 << 10
        client.login(team["specialist"].email)
        started = time.monotonic()
        show = upload_one(client, team["campaign"].id, "rival-a.zip", packed.getvalue())
        page = client.get(show).get_data(as_text=True)
        assert time.monotonic() - started < 5
        assert "refused as a ZIP bomb" in page


def test_the_progress_bar_keeps_moving_through_scoring_and_writing(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    gap_import = GapImport(campaign_id=campaign.id, files=[], state=ImportState.RUNNING,
                           bytes_done=4096, bytes_total=8192)  # fmt: skip
    db.session.add(gap_import)
    db.session.commit()
    client.login(team["specialist"].email)
    progress = f"/campaigns/{campaign.id}/gap/imports/{gap_import.id}/progress"
    assert "Reading the exports: 50%" in client.get(progress).get_data(as_text=True)

    gap_import.bytes_done = 8192
    db.session.commit()
    assert "Folding the exports" in client.get(progress).get_data(as_text=True)

    gap_import.domain_count, gap_import.gap_count = 1000, 8000
    db.session.commit()
    page = client.get(progress).get_data(as_text=True)
    assert "Scoring the prospects and writing the snapshot: 12%" in page
    assert "1,000 of 8,000 referring domains" in page
    assert '<progress value="1000" max="8000">' in page


def test_a_snapshot_of_hundreds_of_thousands_of_domains_shows_its_counts_grouped(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    gap_import = GapImport(
        campaign_id=campaign.id, files=[], state=ImportState.DONE, finished_at=utcnow(),
        domain_count=766_327, gap_count=691_812,
        diff={"previous_import_id": 1, "new_gap": 12_345, "closed": 1_234, "lost": 100_000,
              "samples": {}},
    )  # fmt: skip
    db.session.add(gap_import)
    db.session.commit()
    client.login(team["specialist"].email)
    imports = f"/campaigns/{campaign.id}/gap/import"
    shown = client.get(f"{imports}s/{gap_import.id}").get_data(as_text=True)
    assert "<strong>766,327</strong>" in shown
    assert '<strong id="gap-count">691,812</strong>' in shown
    assert '<strong class="diff-new">12,345</strong>' in shown
    assert '<strong class="diff-lost">100,000</strong>' in shown
    table = client.get(f"/campaigns/{campaign.id}/gap").get_data(as_text=True)
    assert "766,327 referring domains, 691,812 in the gap." in table
    listed = client.get(imports).get_data(as_text=True)
    assert '<td class="num">766,327</td><td class="num">691,812</td>' in listed


def test_a_search_console_export_whose_name_says_nothing_is_our_own_sites(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    from crm.gap.sample_exports import gsc_bytes

    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = upload_one(
        client, campaign.id, "Top linking sites.csv", gsc_bytes([("blog.example.com", 12, 3)])
    )
    page = client.get(show).get_data(as_text=True)
    assert "a Search Console export is of our own site" in page
    assert "file-error" not in page
    gap_import = db.session.scalar(select(GapImport))
    assert gap_import.files[0]["detected"]["owners"] == [campaign.site.domain]


def _upload_refdomains(client: Any, team: dict[str, Any], name: str) -> tuple[str, str]:
    """Upload a referring-domains export as the specialist; return its page's URL and text."""
    from crm.gap.sample_exports import SampleDomain, ahrefs_refdomains_bytes

    client.login(team["specialist"].email)
    data = ahrefs_refdomains_bytes([SampleDomain("blog.example.com", authority=40)])
    show = upload_one(client, team["campaign"].id, name, data)
    return show, client.get(show).get_data(as_text=True)


def test_an_export_of_unknown_owner_asks_for_it_in_the_browsers_words_without_a_column_mapper(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    show, page = _upload_refdomains(client, team, "refdomains.csv")
    assert "choose whose export it is under Owner" in page
    assert "DOMAIN=PATH" not in page and "Map its columns" not in page
    client.post_form(f"{show}/files/0", {"owner": "rival-a.com"}, page=show)
    assert "file-error" not in client.get(show).get_data(as_text=True)


def test_an_export_renamed_with_a_campaign_site_inside_its_name_needs_no_owner_chosen(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    _show, page = _upload_refdomains(client, team, "2026-q4-rival-c.com-refdomains.csv")
    assert "file-error" not in page
    assert 'rival-c.com <small class="muted">(from its file name)' in page


def test_a_pending_import_can_be_discarded_with_its_files(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    client.login(team["specialist"].email)
    show = upload_one(client, campaign.id, "agency-list.csv", AGENCY_CSV)
    folder = Path(db.session.scalar(select(GapImport)).files[0]["path"]).parent
    assert folder.is_dir()
    response = client.post_form(f"{show}/discard", page=show)
    assert response.status_code == 302 and response.headers["Location"].endswith("/gap/import")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(GapImport)) == 0
    assert not folder.exists()
