"""Importing a mixed set of real-format exports writes a snapshot, prospects and evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.models import Evidence, ImportState, Prospect, SnapshotDomain
from tests.fixtures.gap import Checkpoint, ImportFn
from tests.gap.mixed_exports import EXPECTED, SITE

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
    competitors = len(campaign.competitor_domains)
    theirs = [o for (_, o, ours, _) in EXPECTED.values() if not ours]
    ours = [o for (_, o, us, _) in EXPECTED.values() if us]
    assert gap_import.overlap_chart == {
        "not_linking_to_us": {str(n): theirs.count(n) for n in range(1, competitors + 1)},
        "linking_to_us": {str(n): ours.count(n) for n in range(competitors + 1)},
    }
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


def test_reimport_shows_new_gaps_gaps_closed_and_competitor_links_lost(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn,
    tmp_path: Path,
) -> None:  # fmt: skip
    from dataclasses import replace

    from tests.gap import mixed_exports as data

    campaign = team["campaign"]
    first = import_files(campaign, exports.values())
    changed = []
    for r in data.REFERRERS:
        if r.domain == "delta.net":  # now links to us: its gap closed
            r = replace(r, sites={**r.sites, SITE: 1})
        if r.domain == "alpha.com":  # dropped its rival-a.com links
            r = replace(r, sites={k: v for k, v in r.sites.items() if k != "rival-a.com"})
        changed.append(r)
    changed.append(data.Referrer("newgap.io", {"rival-a.com": 1, "rival-b.com": 1}, 45))
    original = data.REFERRERS[:]
    data.REFERRERS[:] = changed
    try:
        second = import_files(campaign, data.write_exports(tmp_path / "second").values())
    finally:
        data.REFERRERS[:] = original
    assert second.diff["previous_import_id"] == first.id
    assert (second.diff["new_gap"], second.diff["closed"], second.diff["lost"]) == (1, 1, 1)
    assert second.diff["samples"]["new_gap"] == ["newgap.io"]
    assert second.diff["samples"]["closed"] == ["delta.net"]
    assert second.diff["samples"]["lost"] == [["alpha.com", "rival-a.com", 2]]
    prospects = _prospects(db, campaign.id)
    assert prospects["alpha.com"].overlap == 3 and prospects["alpha.com"].tier == 2
    assert not prospects["delta.net"].in_gap and prospects["delta.net"].links_to_us
    # The first snapshot is kept for the diff; the new one is the campaign's snapshot.
    assert db.session.scalar(
        select(func.count()).select_from(SnapshotDomain).where(SnapshotDomain.import_id == first.id)
    ) == len(EXPECTED)


def test_sites_without_an_export_in_a_reimport_are_carried_over(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    partial = [p for owner, p in exports.items() if owner != "toolreview.example"]
    second = import_files(campaign, partial)
    assert second.sites_carried == ["toolreview.example"]
    prospects = _prospects(db, campaign.id)
    for domain, (tier, overlap, _, categories) in EXPECTED.items():
        p = prospects[domain]
        assert (p.tier, p.overlap, p.categories) == (tier, overlap, categories), domain
    assert second.diff["lost"] == 0
    assert prospects["beta.co.uk"].backlinks["toolreview.example"] == 4


def test_a_reimport_that_carries_a_competitor_over_reads_its_stored_pages(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())

    def decided() -> dict[str, tuple[Any, ...]]:
        return {d: (p.link_type, p.score, p.score_parts, p.excluded_by, p.target_page_id)
                for d, p in _prospects(db, campaign.id).items()}  # fmt: skip

    full = decided()
    # rival-a.com's export (Ahrefs Backlinks) has the only page of epsilon.io.
    epsilon = _prospects(db, campaign.id)["epsilon.io"].id
    sites = db.session.scalars(select(Evidence.site).where(Evidence.prospect_id == epsilon))
    assert set(sites) == {"rival-a.com"}
    second = import_files(campaign, [p for owner, p in exports.items() if owner != "rival-a.com"])
    assert second.sites_carried == ["rival-a.com"]
    db.session.expire_all()
    assert decided() == full
    relevance = _prospects(db, campaign.id)["epsilon.io"].score_parts["relevance"]["why"]
    assert "no titles" not in relevance


def test_what_the_team_decided_by_hand_survives_a_reimport(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    from crm.gap import actions

    campaign = team["campaign"]
    import_files(campaign, exports.values())
    p = _prospects(db, campaign.id)
    actions.restore(campaign, [p["spammy.xyz"].id])
    actions.mark_unwinnable(campaign, [p["alpha.com"].id], "news_coverage", "launch story")
    actions.correct_prospect(p["delta.net"], link_type="resource", relevance=5)
    actions.map_target(campaign, [p["gamma.org"].id], team["target"])
    actions.set_angle(campaign, [p["beta.co.uk"].id], "skyscraper")
    db.session.commit()
    import_files(campaign, exports.values())
    p = _prospects(db, campaign.id)
    assert p["spammy.xyz"].excluded_by is None and p["spammy.xyz"].restored
    assert p["alpha.com"].excluded_by == "unwinnable"
    assert "launch story" in p["alpha.com"].excluded_note
    assert p["alpha.com"].status.value == "excluded"
    assert (p["delta.net"].link_type, p["delta.net"].link_type_manual) == ("resource", True)
    assert p["delta.net"].relevance_override == 5
    assert p["delta.net"].score_parts["relevance"]["why"] == "rated 5 of 5 by hand"
    assert p["gamma.org"].target_page_id == team["target"].id and p["gamma.org"].target_confirmed
    assert p["beta.co.uk"].angle == "skyscraper"
    assert p["webdir.net"].excluded_by == "directory"  # the rules still apply elsewhere


def test_hand_added_prospects_are_normalised_deduped_scored_and_mapped(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    from crm.gap.manual import add_prospects

    campaign = team["campaign"]
    import_files(campaign, exports.values())
    result = add_prospects(
        campaign,
        ["https://www.Curated-Weekly.com/resources/tools/", "curated-weekly.com.", "ALPHA.com",
         "https://directory.example.net/business/acme", "sample-site.example"],
        source="newsletter curators",
    )  # fmt: skip
    db.session.commit()
    assert [p.domain for p in result.added] == ["curated-weekly.com", "example.net"]
    assert result.existing == ["alpha.com"]
    assert result.invalid == [("sample-site.example",
                               "sample-site.example is the campaign's own site")]  # fmt: skip
    curated, directory = result.added
    assert curated.source == "newsletter curators" and curated.link_type == "resource"
    assert curated.angle == "resource-replacement" and curated.target_page_id == team["target"].id
    assert curated.score > 0 and curated.excluded_by is None and not curated.in_gap
    assert directory.excluded_by == "directory"
    # A re-import leaves a hand-added prospect alone.
    import_files(campaign, exports.values())
    db.session.refresh(curated)
    assert curated.source == "newsletter curators" and curated.link_type == "resource"


def test_an_unchanged_reimport_moves_prospects_to_the_new_snapshot_without_rewriting_them(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn
) -> None:
    campaign = team["campaign"]
    import_files(campaign, exports.values())
    before = {p.domain: p.updated_at for p in _prospects(db, campaign.id).values()}
    second = import_files(campaign, exports.values())
    after = _prospects(db, campaign.id)
    assert {d: p.updated_at for d, p in after.items()} == before
    assert {p.last_import_id for p in after.values()} == {second.id}
    assert second.diff["new_gap"] == second.diff["closed"] == second.diff["lost"] == 0


def test_a_prospect_added_by_hand_during_a_first_import_is_updated_not_duplicated(
    db: Any,
    team: dict[str, Any],
    exports: dict[str, Path],
    import_files: ImportFn,
    after_each_batch: Callable[[Checkpoint], None],
) -> None:
    from sqlalchemy import create_engine, insert

    from crm.models import utcnow

    campaign = team["campaign"]
    other = create_engine(db.engine.url)
    added: list[str] = []

    def add_one_by_hand(done: int, total: int) -> None:
        if added:
            return
        written = set(db.session.scalars(select(Prospect.domain)))
        domain = sorted(set(EXPECTED) - written)[-1]  # one the import has yet to write
        with other.begin() as conn:  # a colleague, in their own request
            conn.execute(
                insert(Prospect),
                {"campaign_id": campaign.id, "domain": domain, "source": "manual",
                 "status_changed_at": utcnow()},
            )  # fmt: skip
        added.append(domain)

    after_each_batch(add_one_by_hand)
    done = import_files(campaign, exports.values())
    other.dispose()

    assert done.state == ImportState.DONE, done.error
    [domain] = added
    [prospect] = db.session.scalars(select(Prospect).where(Prospect.domain == domain))
    assert prospect.source == "manual" and prospect.last_import_id == done.id
    assert set(db.session.scalars(select(Prospect.domain))) == set(EXPECTED)
