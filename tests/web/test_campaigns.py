"""A campaign's target pages: adding or removing one maps its prospects again, as the CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.models import Prospect, TargetPage
from tests.fixtures.gap import ImportFn
from tests.web.gap.progress import follow_progress

pytestmark = pytest.mark.postgres

NEW_PAGE = {"url": "https://sample-site.example/best-kanban-tools", "title": "Best kanban tools",
            "category": "list", "keywords": "kanban, tools", "pitch": ""}  # fmt: skip


def _targets(db: Any) -> dict[str, int | None]:
    db.session.expire_all()
    return {p.domain: p.target_page_id for p in db.session.scalars(select(Prospect))}


def test_removing_and_adding_target_pages_maps_the_prospects_again_but_keeps_confirmed_ones(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign, guide = team["campaign"], team["target"]
    import_files(campaign, exports.values())
    assert set(_targets(db).values()) == {guide.id}  # the campaign's only page
    client.login(team["manager"].email)
    show = f"/campaigns/{campaign.id}"
    removed = client.post_form(f"{show}/targets/{guide.id}/delete", page=show)
    count = len(_targets(db))
    assert (
        f"Target page removed; {count} prospects mapped to the target pages again."
        in client.get(removed.headers["Location"]).get_data(as_text=True)
    )
    assert set(_targets(db).values()) == {None}  # no page left to pitch

    added = client.post_form(f"{show}/targets", NEW_PAGE, page=show)

    assert f"Target page added; {count} prospects mapped to the target pages again." in client.get(
        added.headers["Location"]
    ).get_data(as_text=True)
    page = db.session.scalar(select(TargetPage).where(TargetPage.url == NEW_PAGE["url"]))
    assert set(_targets(db).values()) == {page.id}
    # A page a person confirmed for a prospect stays when another page is added.
    chosen = db.session.scalar(select(Prospect).where(Prospect.domain == "alpha.com"))
    chosen.target_page_id, chosen.target_confirmed = page.id, True
    db.session.commit()
    other = {**NEW_PAGE, "url": "https://sample-site.example/kanban-data", "category": "data"}
    added = client.post_form(f"{show}/targets", other, page=show)
    assert (
        f"Target page added; {count - 1} prospects mapped to the target pages again."
        in client.get(added.headers["Location"]).get_data(as_text=True)
    )
    assert _targets(db)["alpha.com"] == page.id


def test_adding_a_target_page_to_a_big_campaign_maps_its_prospects_again_in_the_background(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    import_files: ImportFn,
) -> None:  # fmt: skip
    app.config["GAP_BULK_BATCH"] = 2
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    count = len(_targets(db))
    db.session.rollback()
    client.login(team["manager"].email)
    show = f"/campaigns/{campaign.id}"
    added = client.post_form(f"{show}/targets", NEW_PAGE, page=show)
    change = added.headers["Location"]
    assert f"/campaigns/{campaign.id}/gap/changes/" in change
    follow_progress(client, change)
    shown = client.get(change).get_data(as_text=True)
    assert f"Mapping {count} prospects to the target pages again" in shown
    assert f"on the {count} prospects whose target page nobody confirmed then" in shown
    assert f"{count} prospects mapped to the target pages again." in shown
