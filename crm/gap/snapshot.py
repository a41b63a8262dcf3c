"""Write one reduced import as the campaign's new snapshot (services: flush only).

- SnapshotDomain rows: the facts per referring domain, kept for the next diff;
  sites this import has no export for are carried over from the previous
  snapshot, so a partial re-import still gives the whole picture.
- Prospect rows: inserted or updated in bulk with the denormalised gap
  columns, link type, score, qualification and suggested target and angle
  (crm.gap.snapshot_prospects); what the team decided by hand is never
  overwritten.
- Evidence rows of the sites this import covers are replaced.
- The diff against the previous snapshot goes on GapImport.diff.

Domains arrive from the reduction a batch at a time and are written with
executemany statements (no ORM object per row); the diff, the chart and the
linkable assets are tallied as they pass. Each batch is decided first (reads
and the pure rules) and written after, and the caller's `checkpoint` may
commit between batches: the write lock (all of SQLite, a batch's rows on
PostgreSQL) is then held for one batch's writes, well under a second, not
for the whole import. The import stays "running" until its last commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.gap.assess import gap_context
from crm.gap.assets import AssetTally
from crm.gap.bulk import BATCH, batches, bulk_insert
from crm.gap.compute import GapRow, compute_gap
from crm.gap.diff import DiffTally
from crm.gap.reduce import Reduction
from crm.gap.snapshot_diff import assets_json, diff_json
from crm.gap.snapshot_evidence import delete_evidence, insert_evidence
from crm.gap.snapshot_prospects import (
    decide_prospects,
    has_prospects,
    newest_prospect_id,
    prospects_left_out,
    reset_prospects,
    write_prospects,
)
from crm.models import Evidence, GapImport, ImportState, Prospect, SnapshotDomain

# Domains decided and written per transaction when the caller commits between batches.
WRITE_BATCH = 2500


def previous_snapshot(gap_import: GapImport) -> GapImport | None:
    """Return the newest finished import of the campaign before this one."""
    return db.session.scalar(
        select(GapImport)
        .where(
            GapImport.campaign_id == gap_import.campaign_id,
            GapImport.state == ImportState.DONE,
            GapImport.id != gap_import.id,
        )
        .order_by(GapImport.finished_at.desc(), GapImport.id.desc())
        .limit(1)
    )


def _snapshot_sites(import_id: int, domains: Sequence[str]) -> dict[str, dict[str, int]]:
    """Return {domain: {site: backlinks}} of these domains in a stored snapshot."""
    out: dict[str, dict[str, int]] = {}
    for chunk in batches(domains):
        rows = db.session.execute(
            select(SnapshotDomain.domain, SnapshotDomain.sites).where(
                SnapshotDomain.import_id == import_id, SnapshotDomain.domain.in_(chunk)
            )
        )
        out.update((domain, dict(sites or {})) for domain, sites in rows)
    return out


def _carried_rows(previous_id: int, carried: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Yield the previous snapshot's facts of the sites this import has no export of."""
    wanted = set(carried)
    rows = db.session.execute(
        select(
            SnapshotDomain.domain,
            SnapshotDomain.sites,
            SnapshotDomain.authority,
            SnapshotDomain.traffic,
            SnapshotDomain.dofollow,
            SnapshotDomain.spam,
        ).where(SnapshotDomain.import_id == previous_id)
    )
    for domain, sites, authority, traffic, dofollow, spam in rows:
        for site, count in (sites or {}).items():
            if site in wanted and count > 0:
                yield domain, site, count, authority, traffic, dofollow, spam


def _gone_since(previous_id: int, import_id: int) -> Iterator[tuple[str, dict[str, int]]]:
    """Yield the domains of the previous snapshot that are not in this one, with their sites."""
    now = aliased(SnapshotDomain)
    rows = db.session.execute(
        select(SnapshotDomain.domain, SnapshotDomain.sites).where(
            SnapshotDomain.import_id == previous_id,
            ~exists().where(now.import_id == import_id, now.domain == SnapshotDomain.domain),
        )
    )
    for domain, sites in rows:
        yield domain, dict(sites or {})


def write_snapshot(
    gap_import: GapImport,
    reduction: Reduction,
    *,
    now: datetime,
    checkpoint: Callable[[int, int], None] | None = None,
) -> None:
    """Store a reduced import as the campaign's newest snapshot (flush).

    `checkpoint(done, total)` is called after each batch of domains is
    written (the job commits there and reports progress).
    """
    campaign = gap_import.campaign
    sites = (campaign.site.domain, *campaign.competitor_domains)
    covered = [s for s in sites if reduction.covered(s)]
    previous = previous_snapshot(gap_import)
    carried: list[str] = []
    if previous is not None:
        had = set(previous.sites_covered or []) | set(previous.sites_carried or [])
        carried = [s for s in sites if s not in covered and s in had]
        if carried:
            reduction.carry(_carried_rows(previous.id, carried))

    ctx = gap_context(campaign)
    # Each domain comes once, so only prospects someone else writes can be found: none on
    # a first import, unless a person adds one meanwhile (an id past ours shows it).
    known = has_prospects(gap_import.campaign_id)
    ours_up_to = newest_prospect_id()
    ours_present = campaign.site.domain in covered or campaign.site.domain in carried
    diff = DiffTally(ctx.gap, covered) if previous is not None else None
    assets = AssetTally(campaign.competitor_domains)
    theirs: Counter[int] = Counter()
    ours: Counter[int] = Counter()
    total = len(reduction)
    done = 0
    size = WRITE_BATCH if checkpoint is not None else BATCH
    for batch in reduction.batches(size, judged=True):
        facts = {fact.domain: fact for fact in batch}
        rows = list(compute_gap(batch, ctx.gap, our_export_present=ours_present))
        before = {}
        if diff is not None and previous is not None:
            before = _snapshot_sites(previous.id, [r.domain for r in rows])
        newest = newest_prospect_id()
        known = known or newest > ours_up_to
        decided = decide_prospects(gap_import, rows, facts, ctx, now, known=known, carried=carried)
        for row in rows:
            if diff is not None:
                diff.add(row.domain, before.get(row.domain), row.backlinks)
            assets.add(row, facts[row.domain])
            (ours if row.links_to_us else theirs)[row.overlap] += 1
        # Only writes from here to the checkpoint: the lock is held this long.
        _insert_snapshot_domains(gap_import.id, rows)
        ids = write_prospects(gap_import, decided, now, newest_before=newest)
        ours_up_to = max([ours_up_to, *ids.values()])
        delete_evidence(list(decided.ids.values()), covered)
        insert_evidence(gap_import.id, ids, facts, covered)
        if done == 0:
            _refresh_statistics()
        done += len(rows)
        if checkpoint is not None:
            checkpoint(done, total)
    # The last transaction reads first and writes after: the lock is held for the writes.
    if diff is not None and previous is not None:
        for domain, old in _gone_since(previous.id, gap_import.id):
            diff.add(domain, old, None)
    gap_count = db.session.scalar(
        select(func.count())
        .select_from(Prospect)
        .where(Prospect.last_import_id == gap_import.id, Prospect.in_gap.is_(True))
    )
    reset_prospects(prospects_left_out(gap_import), covered, now)

    gap_import.sites_covered = covered
    gap_import.sites_carried = carried
    gap_import.domain_count = sum(theirs.values()) + sum(ours.values())
    gap_import.gap_count = gap_count or 0
    gap_import.files = _file_summaries(gap_import.files, reduction)
    gap_import.diff = diff_json(diff.diff() if diff else None, previous.id if previous else None)
    assets_found = assets_json(assets.assets())
    if previous is not None:
        # A carried-over competitor has no target URLs in this import: keep its ranking.
        for site in carried:
            if site in (previous.assets or {}):
                assets_found[site] = previous.assets[site]
    gap_import.assets = assets_found
    competitors = len(campaign.competitor_domains)
    gap_import.overlap_chart = {
        "not_linking_to_us": {str(n): theirs[n] for n in range(1, competitors + 1)},
        "linking_to_us": {str(n): ours[n] for n in range(competitors + 1)},
    }
    db.session.flush()


def _file_summaries(files: list[dict[str, Any]], reduction: Reduction) -> list[dict[str, Any]]:
    by_name = {s.display_name: s for s in reduction.files}
    out = []
    for entry in files:
        entry = dict(entry)
        summary = by_name.get(entry["name"]) or next(
            (s for n, s in by_name.items() if n.startswith(entry["name"] + " › ")), None
        )
        if summary is not None:
            entry["records"] = summary.records
            entry["skipped"] = summary.skipped
            entry["skipped_lines"] = list(summary.skipped_lines[:20])
            entry["domains"] = summary.domains
            entry["ignored_sites"] = list(summary.ignored_sites)
        out.append(entry)
    return out


def _refresh_statistics() -> None:
    """Tell PostgreSQL's planner how the tables this import fills look (a first batch is in).

    Without statistics (autovacuum lags or is off) it guesses that a campaign
    has few prospects and scans them all to look a batch up by domain, once
    per batch: the import slows down as the campaign grows. SQLite plans by
    its indexes and needs none.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(m.__tablename__ for m in (Prospect, Evidence, SnapshotDomain))
        db.session.execute(text(f"ANALYZE {names}"))


def _insert_snapshot_domains(import_id: int, rows: list[GapRow]) -> None:
    bulk_insert(
        SnapshotDomain,
        # sites: the campaign's sites it links to, with their backlinks
        [(r.domain, r.backlinks, r.authority, r.traffic, r.dofollow, r.spam) for r in rows],
        columns=("domain", "sites", "authority", "traffic", "dofollow", "spam"),
        same={"import_id": import_id},
    )
