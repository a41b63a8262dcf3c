"""Importing a mixed set of real-format exports writes a snapshot, prospects and evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.models import Evidence, ImportState, Prospect, SnapshotDomain
from tests.gap_db.conftest import ImportFn
from tests.gap_db.exports import EXPECTED, SITE

pytestmark = pytest.mark.postgres


def _prospects(db: Any, campaign_id: int) -> dict[str, Prospect]:
    rows = db.session.scalars(select(Prospect).where(Prospect.campaign_id == campaign_id))
    return {p.domain: p for p in rows}


def test_mixed_exports_give_the_overlap_counts_tiers_and_categories(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    gap_import = import_files(campaign, exports.values())
    assert gap_import.state == ImportState.DONE, gap_import.error
    prospects = _prospects(db, campaign.id)
    assert set(prospects) == set(EXPECTED)
    for domain, (tier, overlap, links_to_us, categories) in EXPECTED.items():
        p = prospects[domain]
        assert (p.tier, p.overlap, p.links_to_us, p.categories) == (
            tier,
            overlap,
            links_to_us,
            categories,
        ), domain
        assert p.in_gap == (not links_to_us and overlap >= 1)
    assert gap_import.domain_count == len(EXPECTED)
    assert gap_import.gap_count == sum(1 for t in EXPECTED.values() if not t[2])
    assert sorted(gap_import.sites_covered) == sorted([SITE, *campaign.competitor_domains])
    assert db.session.scalar(
        select(SnapshotDomain.sites).where(SnapshotDomain.domain == "zeta.com")
    ) == {SITE: 1, "rival-a.com": 3, "rival-b.com": 1}
    alpha = prospects["alpha.com"]
    assert alpha.authority == 72 and alpha.dofollow is True and alpha.traffic == 52000
    assert prospects["nofollow.com"].dofollow is False
    assert prospects["spammy.xyz"].spam is True
    pages = db.session.scalars(select(Evidence).where(Evidence.prospect_id == alpha.id)).all()
    assert {e.site for e in pages} == {"rival-a.com", "rival-b.com"}
    assert all(e.title == "Best kanban tools in 2026" for e in pages)
