"""A bulk action on more prospects than one batch runs in the background; its page follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.models import BulkChange, BulkChangeState, Prospect, ProspectStatus, utcnow
from tests.fixtures.gap import ImportFn
from tests.web.gap.progress import follow_progress

pytestmark = pytest.mark.postgres


def test_qualifying_all_matching_beyond_one_batch_runs_in_the_background_with_a_progress_page(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    import_files: ImportFn,
) -> None:  # fmt: skip
    app.config["GAP_BULK_BATCH"] = 2  # the 4 tier-1 prospects are two batches
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    response = client.post_form(
        f"{table}/bulk", {"tier": "1", "scope": "all", "action": "qualify"}, page=table
    )

    change_id = db.session.scalar(select(BulkChange.id))
    db.session.rollback()  # hold no read transaction open while the change writes
    page = f"/campaigns/{campaign.id}/gap/changes/{change_id}"
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert follow_progress(client, page).headers["HX-Redirect"] == page
    shown = client.get(page).get_data(as_text=True)
    assert "Qualifying 4 prospects" in shown and "on the 4 prospects its view matched then" in shown
    assert '<p class="flash flash-ok" role="status" id="change-summary">4 prospects qualified.' in (
        shown
    )
    assert f"{table}?tier=1" in shown.split('id="back-to-view"')[0].rsplit("<a", 1)[1]
    db.session.expire_all()
    tier1 = db.session.scalars(
        select(Prospect.status).where(Prospect.tier == 1, Prospect.excluded_by.is_(None))
    ).all()
    assert tier1 == [ProspectStatus.QUALIFIED] * 4
    assert db.session.get(BulkChange, change_id).state == BulkChangeState.DONE


def test_a_bad_choice_for_a_big_change_is_refused_on_the_form_and_changes_nothing(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    import_files: ImportFn,
) -> None:  # fmt: skip
    app.config["GAP_BULK_BATCH"] = 2
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap"
    data = {"tier": "1", "scope": "all", "action": "exclude", "reason": ""}
    response = client.post_form(f"{table}/bulk", data, page=table)
    assert response.status_code == 302 and "tier=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "say why these prospects are excluded" in page
    assert db.session.scalar(select(BulkChange)) is None
    statuses = db.session.scalars(select(Prospect.status).where(Prospect.tier == 1)).all()
    assert set(statuses) == {ProspectStatus.NEW}


def test_the_gap_table_says_a_change_is_running_and_links_to_it(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    change = BulkChange(campaign_id=campaign.id, action="qualify", total=300_000, done=42_000,
                        progress_at=utcnow())  # fmt: skip
    db.session.add(change)
    db.session.commit()
    client.login(team["specialist"].email)
    page = client.get(f"/campaigns/{campaign.id}/gap").get_data(as_text=True)
    banner = page.split('id="running-change">')[1].split("</div>")[0]
    assert "A bulk change is running: 42,000 of 300,000 prospects done." in banner
    assert f'href="/campaigns/{campaign.id}/gap/changes/{change.id}"' in banner
    shown = client.get(f"/campaigns/{campaign.id}/gap/changes/{change.id}").get_data(as_text=True)
    assert "Qualifying 300,000 prospects" in shown and '<progress value="42000"' in shown
    assert "14% (42,000 of 300,000 prospects)" in shown


def test_a_change_whose_process_went_away_says_how_far_it_got(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    change = BulkChange(campaign_id=campaign.id, action="set_angle", total=9_000, done=4_000,
                        choices={"angle": "resource-replacement"},
                        progress_at=utcnow().replace(year=2025))  # fmt: skip
    db.session.add(change)
    db.session.commit()
    client.login(team["specialist"].email)
    shown = client.get(f"/campaigns/{campaign.id}/gap/changes/{change.id}").get_data(as_text=True)
    assert "interrupted" in shown.split('id="change-state">')[1][:40]
    assert "This change stopped after 4,000 of 9,000 prospects" in shown
    assert "hx-get" not in shown.split('id="change-progress"')[1][:200]
    assert "Angle: <strong>resource replacement</strong>" in shown
    gap = client.get(f"/campaigns/{campaign.id}/gap").get_data(as_text=True)
    assert 'id="running-change"' not in gap


def test_another_campaigns_change_is_not_found(db: Any, client: Any, team: dict[str, Any]) -> None:
    other = team["other_campaign"]
    change = BulkChange(campaign_id=other.id, action="qualify", total=10, progress_at=utcnow())
    db.session.add(change)
    db.session.commit()
    client.login(team["specialist"].email)
    mine = team["campaign"].id
    assert client.get(f"/campaigns/{mine}/gap/changes/{change.id}").status_code == 404
    assert client.get(f"/campaigns/{other.id}/gap/changes/{change.id}").status_code == 403


def test_a_stopped_change_is_finished_by_running_it_again_on_what_its_view_matches_now(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    import_files: ImportFn,
) -> None:  # fmt: skip
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    tier1 = select(Prospect).where(Prospect.tier == 1, Prospect.excluded_by.is_(None))
    first = db.session.scalars(tier1.limit(1)).one()
    first.status = ProspectStatus.QUALIFIED  # what the stopped change got done
    stopped = BulkChange(campaign_id=campaign.id, action="qualify", view={"tier": "1"}, total=4,
                         done=1, changed=1, state=BulkChangeState.FAILED, error="a lost database",
                         progress_at=utcnow())  # fmt: skip
    db.session.add(stopped)
    db.session.commit()
    app.config["GAP_BULK_BATCH"] = 2  # the 4 tier-1 prospects are two batches
    client.login(team["specialist"].email)
    page = f"/campaigns/{campaign.id}/gap/changes/{stopped.id}"
    shown = client.get(page).get_data(as_text=True)
    assert "Stopped after 1 of 4 prospects: a lost database." in shown and "Finish it" in shown

    response = client.post_form(f"{page}/again", page=page)

    again = response.headers["Location"]
    assert again != page and "/gap/changes/" in again
    db.session.rollback()  # hold no read transaction open while the change writes
    follow_progress(client, again)
    assert "4 prospects qualified." in client.get(again).get_data(as_text=True)
    db.session.expire_all()
    assert {p.status for p in db.session.scalars(tier1)} == {ProspectStatus.QUALIFIED}


def test_a_running_change_is_not_started_again(db: Any, client: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    running = BulkChange(campaign_id=campaign.id, action="qualify", total=9_000, done=4_000,
                         progress_at=utcnow())  # fmt: skip
    db.session.add(running)
    db.session.commit()
    client.login(team["specialist"].email)
    page = f"/campaigns/{campaign.id}/gap/changes/{running.id}"
    assert "Finish it" not in client.get(page).get_data(as_text=True)
    response = client.post_form(f"{page}/again", page=f"/campaigns/{campaign.id}/gap")
    assert response.headers["Location"] == page
    shown = client.get(page).get_data(as_text=True)
    assert "This change did not stop: there is nothing to finish." in shown
    assert db.session.scalar(select(func.count()).select_from(BulkChange)) == 1


def test_only_a_manager_finishes_applying_the_rules_again(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    stopped = BulkChange(campaign_id=campaign.id, action="apply_rules", total=9_000, done=4_000,
                         state=BulkChangeState.FAILED, progress_at=utcnow())  # fmt: skip
    db.session.add(stopped)
    db.session.commit()
    page = f"/campaigns/{campaign.id}/gap/changes/{stopped.id}"
    client.login(team["specialist"].email)
    assert "Finish it" not in client.get(page).get_data(as_text=True)
    token_page = f"/campaigns/{campaign.id}/gap"
    assert client.post_form(f"{page}/again", page=token_page).status_code == 403
