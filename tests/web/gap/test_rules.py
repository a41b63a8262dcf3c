"""The rules and weights page: set per campaign, applied to every prospect with their reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.gap.sample_exports import generic_bytes
from crm.models import Prospect
from tests.fixtures.gap import ImportFn
from tests.web.gap.progress import follow_progress

pytestmark = pytest.mark.postgres

AGENCY_CSV = generic_bytes(
    ["Linking URL", "Points to", "Rating", "Visits"],
    [["https://www.curated.example.com/tools/", "https://rival-a.com/guide", "61", "1,200"],
     ["https://blog.other.example.net/post", "https://rival-a.com/", "35", "90"]],
)  # fmt: skip
FORM = {"min_overlap": "2", "min_authority": "50", "exclude_spam": "y",
        "exclude_paid_or_ugc_only": "y", "directory": "y", "exclude_tlds": "io, xyz",
        "languages": "", "blocklist": "beta.co.uk", "keywords": "kanban",
        "weight_authority": "1", "weight_relevance": "0", "weight_feasibility": "0"}  # fmt: skip


def test_rules_and_weights_are_applied_to_every_prospect_with_their_reason(
    db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["manager"].email)  # managers only (see tests/web/routes/gap.py)
    url = f"/campaigns/{campaign.id}/gap/settings"
    form = FORM
    response = client.post_form(url, form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}/gap")
    _assert_the_rules_were_applied(db)
    bad = client.post_form(url, {**form, "weight_authority": "0"})
    assert bad.status_code == 200 and "at least one score weight" in bad.get_data(as_text=True)


def test_new_rules_for_more_prospects_than_one_batch_are_applied_in_the_background(
    app: Flask, db: Any, client: Any, team: dict[str, Any], exports: dict[str, Path],
    import_files: ImportFn,
) -> None:  # fmt: skip
    app.config["GAP_BULK_BATCH"] = 2
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    client.login(team["manager"].email)
    response = client.post_form(f"/campaigns/{campaign.id}/gap/settings", FORM)
    change = response.headers["Location"]
    assert f"/campaigns/{campaign.id}/gap/changes/" in change
    db.session.rollback()  # hold no read transaction open while the change writes
    follow_progress(client, change)
    page = client.get(change).get_data(as_text=True)
    count = len(db.session.scalars(select(Prospect.id)).all())
    assert f"Applying the rules again to {count} prospects" in page
    assert f"on the campaign&#39;s {count} prospects then" in page
    assert f"{count} prospects re-qualified and re-scored." in page
    _assert_the_rules_were_applied(db)


def _assert_the_rules_were_applied(db: Any) -> None:
    db.session.expire_all()
    p = {x.domain: x for x in db.session.scalars(select(Prospect))}
    assert p["epsilon.io"].in_gap is False and p["epsilon.io"].tier is None  # overlap 1 < 2
    assert p["beta.co.uk"].excluded_by == "blocklist"
    assert p["spammy.xyz"].excluded_by == "spam"  # the first rule that matches
    assert p["delta.net"].excluded_by == "min_authority"
    assert p["delta.net"].excluded_note == "authority 40 is below 50"
    assert p["alpha.com"].excluded_by is None and p["alpha.com"].score == 0.72  # DR only
