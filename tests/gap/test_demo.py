"""The demo workspace lands a new user on a real gap: two snapshots, a diff, a ranked table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from crm.demo import DEMO_CAMPAIGN, DEMO_LOGIN, seed_demo_workspace
from crm.models import Campaign, GapImport, ImportState, Prospect


def test_demo_campaign_has_an_imported_gap_with_a_diff(db: Any, client: Any) -> None:
    seed_demo_workspace()
    db.session.commit()
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    imports = db.session.scalars(select(GapImport).order_by(GapImport.id)).all()
    assert [i.state for i in imports] == [ImportState.DONE, ImportState.DONE]
    latest = imports[-1]
    assert len(latest.sites_covered) == 5 and latest.gap_count > 100
    assert latest.diff["new_gap"] and latest.diff["closed"] and latest.diff["lost"]
    assert {f["detected"]["format"] for f in latest.files} == {
        "gsc-top-linking-sites", "ahrefs-backlinks", "semrush-backlinks", "ahrefs-refdomains",
        "majestic-backlinks"}  # fmt: skip
    hidden = db.session.scalar(
        select(func.count()).select_from(Prospect).where(Prospect.excluded_by.is_not(None))
    )
    assert hidden > 0
    client.login(DEMO_LOGIN[0], DEMO_LOGIN[1])
    page = client.get(f"/campaigns/{campaign.id}/gap").get_data(as_text=True)
    assert page.count('name="prospect_id"') == 50 and "overlap-chart" in page
    overview = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="snapshot-diff"' in overview and 'id="stale-reminder"' not in overview
