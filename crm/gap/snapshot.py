"""Write one reduced import as the campaign's new snapshot (services: flush only).

- SnapshotDomain rows: the facts per referring domain, kept for the next diff;
  sites this import has no export for are carried over from the previous
  snapshot, so a partial re-import still gives the whole picture.
- Prospect rows: inserted or updated in bulk with the denormalised gap
  columns, link type, score, qualification and suggested target and angle;
  what the team decided by hand (a restored prospect, an unwinnable mark, a
  corrected link type, a confirmed target, an angle) is never overwritten.
- Evidence rows of the sites this import covers are replaced.
- The diff against the previous snapshot goes on GapImport.diff.

Everything is done with executemany statements (no ORM object per row), so
100,000+ domains write in seconds on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update

from crm.extensions import db
from crm.gap.assess import GapContext, PriorState, assess, gap_context
from crm.gap.assets import linkable_assets
from crm.gap.bulk import bulk_insert, bulk_update
from crm.gap.compute import GapRow, compute_gap, overlap_chart
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.reduce import DomainFacts, Reduction
from crm.gap.snapshot_diff import assets_json, snapshot_diff
from crm.models import Contact, Evidence, GapImport, Prospect, SnapshotDomain
from crm.models.prospect import category_bits_of

BATCH = 5000
# Evidence pages kept per prospect and site (the best first): "why they got the link".
EVIDENCE_STORED = 3
T = TypeVar("T")


def batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """Yield lists of at most `size` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def previous_snapshot(gap_import: GapImport) -> GapImport | None:
    """Return the newest finished import of the campaign before this one."""
    from crm.models import ImportState

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


def snapshot_sites(import_id: int) -> dict[str, dict[str, int]]:
    """Return {domain: {site: backlinks}} of a stored snapshot."""
    rows = db.session.execute(
        select(SnapshotDomain.domain, SnapshotDomain.sites).where(
            SnapshotDomain.import_id == import_id
        )
    )
    return {domain: dict(sites or {}) for domain, sites in rows}


def _carry_over(facts: dict[str, DomainFacts], previous: GapImport, carried: Sequence[str]) -> None:
    """Merge the previous snapshot's facts for sites this import has no export of."""
    wanted = set(carried)
    rows = db.session.execute(
        select(
            SnapshotDomain.domain,
            SnapshotDomain.sites,
            SnapshotDomain.authority,
            SnapshotDomain.traffic,
            SnapshotDomain.dofollow,
            SnapshotDomain.spam,
        ).where(SnapshotDomain.import_id == previous.id)
    )
    for domain, sites, authority, traffic, dofollow, spam in rows:
        kept = {s: n for s, n in (sites or {}).items() if s in wanted and n > 0}
        if not kept:
            continue
        fact = facts.get(domain)
        if fact is None:
            facts[domain] = DomainFacts(domain, backlinks=kept, authority=authority,
                                        traffic=traffic, dofollow=dofollow, spam=spam)  # fmt: skip
            continue
        fact.backlinks.update(kept)
        if authority is not None and (fact.authority is None or authority > fact.authority):
            fact.authority = authority
        if traffic is not None and (fact.traffic is None or traffic > fact.traffic):
            fact.traffic = traffic
        if dofollow is not None:
            fact.dofollow = bool(fact.dofollow) or dofollow
        if spam:
            fact.spam = True


def write_snapshot(gap_import: GapImport, reduction: Reduction, *, now: datetime) -> None:
    """Store a reduced import as the campaign's newest snapshot (flush)."""
    campaign = gap_import.campaign
    sites = (campaign.site.domain, *campaign.competitor_domains)
    covered = [s for s in sites if reduction.covered(s)]
    previous = previous_snapshot(gap_import)
    before: dict[str, dict[str, int]] = {}
    carried: list[str] = []
    if previous is not None:
        had = set(previous.sites_covered or []) | set(previous.sites_carried or [])
        carried = [s for s in sites if s not in covered and s in had]
        before = snapshot_sites(previous.id)
    facts = reduction.facts
    if carried and previous is not None:
        _carry_over(facts, previous, carried)

    ctx = gap_context(campaign)
    ours_present = campaign.site.domain in covered or campaign.site.domain in carried
    rows = list(compute_gap(facts.values(), ctx.gap, our_export_present=ours_present))

    _insert_snapshot_domains(gap_import.id, rows, facts, sites)
    ids = _upsert_prospects(gap_import, rows, facts, ctx, now)
    _replace_evidence(gap_import.id, campaign.id, ids, facts, covered)

    after = {row.domain: dict(row.backlinks) for row in rows}
    gap_import.sites_covered = covered
    gap_import.sites_carried = carried
    gap_import.domain_count = len(rows)
    gap_import.gap_count = sum(1 for row in rows if row.is_gap)
    gap_import.files = _file_summaries(gap_import.files, reduction)
    gap_import.diff = snapshot_diff(
        before, after, ctx.gap, covered=covered, previous_id=previous.id if previous else None
    )
    assets = assets_json(linkable_assets(rows, facts, campaign.competitor_domains))
    if previous is not None:
        # A carried-over competitor has no target URLs in this import: keep its ranking.
        for site in carried:
            if site in (previous.assets or {}):
                assets[site] = previous.assets[site]
    gap_import.assets = assets
    chart = overlap_chart(rows, len(campaign.competitor_domains))
    gap_import.overlap_chart = {
        "not_linking_to_us": {str(n): c for n, c in chart.not_linking_to_us.items()},
        "linking_to_us": {str(n): c for n, c in chart.linking_to_us.items()},
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


def _insert_snapshot_domains(
    import_id: int, rows: list[GapRow], facts: dict[str, DomainFacts], sites: Sequence[str]
) -> None:
    def values() -> Iterator[dict[str, Any]]:
        for row in rows:
            fact = facts[row.domain]
            yield {
                "import_id": import_id,
                "domain": row.domain,
                "sites": {s: fact.backlinks[s] for s in sites if fact.backlinks.get(s, 0) > 0},
                "authority": fact.authority,
                "traffic": fact.traffic,
                "dofollow": fact.dofollow,
                "spam": fact.spam,
            }

    bulk_insert(SnapshotDomain, list(values()))


# Prospect columns an import sets; a prospect whose values did not change is not
# rewritten (a quarterly re-import mostly finds the same facts).
_COMPARED = (
    "in_gap", "links_to_us", "overlap", "tier", "category_bits", "competitors", "backlinks",
    "authority", "traffic", "dofollow", "spam", "language", "link_type", "broken_link", "score",
    "score_parts", "excluded_by", "excluded_note", "target_page_id", "angle",
)  # fmt: skip


def _prior_states(campaign_id: int) -> tuple[dict[str, PriorState], dict[str, tuple[Any, ...]]]:
    """Return what the rules need of each prospect, and the values an import may change."""
    contacts = (
        select(Contact.prospect_id, func.count().label("n"))
        .group_by(Contact.prospect_id)
        .subquery()
    )
    stmt = (
        select(
            Prospect.domain,
            Prospect.id,
            Prospect.link_type,
            Prospect.link_type_manual,
            Prospect.broken_link,
            Prospect.relevance_override,
            Prospect.restored,
            Prospect.excluded_by,
            Prospect.excluded_note,
            Prospect.target_page_id,
            Prospect.target_confirmed,
            Prospect.angle,
            func.coalesce(contacts.c.n, 0),
            *(getattr(Prospect, name) for name in _COMPARED),
        )
        .outerjoin(contacts, contacts.c.prospect_id == Prospect.id)
        .where(Prospect.campaign_id == campaign_id)
    )
    states: dict[str, PriorState] = {}
    values: dict[str, tuple[Any, ...]] = {}
    width = len(PriorState._fields)
    for row in db.session.execute(stmt):
        states[row[0]] = PriorState._make(row[1 : width + 1])
        values[row[0]] = tuple(row[width + 1 :])
    return states, values


_GAP_RESET: dict[str, Any] = {
    "in_gap": False,
    "links_to_us": False,
    "overlap": 0,
    "tier": None,
    "category_bits": 0,
    "competitors": [],
    "backlinks": {},
}


def _upsert_prospects(
    gap_import: GapImport,
    rows: list[GapRow],
    facts: dict[str, DomainFacts],
    ctx: GapContext,
    now: datetime,
) -> dict[str, int]:
    """Insert or update one prospect per referring domain; return {domain: prospect id}."""
    campaign_id = gap_import.campaign_id
    prior, before = _prior_states(campaign_id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row in rows:
        fact = facts[row.domain]
        state = prior.get(row.domain)
        values = {
            "in_gap": row.is_gap,
            "links_to_us": row.links_to_us,
            "overlap": row.overlap,
            "tier": row.tier,
            "category_bits": category_bits_of(row.categories),
            "competitors": list(row.competitors),
            "backlinks": dict(row.backlinks),
            "authority": row.authority,
            "traffic": row.traffic,
            "dofollow": row.dofollow,
            "spam": row.spam,
            "language": _clip(fact.language, 16),
            **assess(row, fact, state, ctx),
        }
        if state is None:
            inserts.append({"campaign_id": campaign_id, "domain": row.domain, "source": "import",
                            "created_at": now, "status_changed_at": now, "updated_at": now,
                            "last_import_id": gap_import.id, **values})  # fmt: skip
        elif tuple(values[k] for k in _COMPARED) != before[row.domain]:
            updates.append({"id": state.id, "updated_at": now, **values})
    bulk_insert(Prospect, inserts)
    bulk_update(Prospect, updates)
    # Every prospect of this snapshot now belongs to it, changed or not.
    db.session.execute(
        update(Prospect)
        .where(
            Prospect.campaign_id == campaign_id,
            Prospect.domain.in_(
                select(SnapshotDomain.domain).where(SnapshotDomain.import_id == gap_import.id)
            ),
        )
        # Moving to a snapshot is no change of the prospect (updated_at has an onupdate).
        .values(last_import_id=gap_import.id, updated_at=Prospect.updated_at)
        .execution_options(synchronize_session=False)
    )
    # Domains no export of this snapshot mentions keep their pipeline, lose their gap facts.
    db.session.execute(
        update(Prospect)
        .where(
            Prospect.campaign_id == campaign_id,
            Prospect.last_import_id.is_not(None),
            Prospect.last_import_id != gap_import.id,
        )
        .values(**_GAP_RESET, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    ids = db.session.execute(
        select(Prospect.domain, Prospect.id).where(Prospect.campaign_id == campaign_id)
    )
    return {domain: prospect_id for domain, prospect_id in ids}


def evidence_values(page: PageEvidence) -> dict[str, Any]:
    """Return the Evidence row columns of one referring page."""
    return {
        "page_url": page.page_url,
        "title": page.title,
        "target_url": page.target_url,
        "anchor": page.anchor,
        "rel": _clip(page.rel, 40),
        "first_seen": page.first_seen.isoformat() if page.first_seen else None,
        "last_seen": page.last_seen.isoformat() if page.last_seen else None,
        "http_code": page.http_code,
        "lost": _clip(page.lost, 40),
        "language": _clip(page.language, 16),
        "page_type": _clip(page.page_type, 120),
        "page_category": _clip(page.page_category, 200),
    }


def _replace_evidence(
    import_id: int,
    campaign_id: int,
    ids: dict[str, int],
    facts: dict[str, DomainFacts],
    covered: Sequence[str],
) -> None:
    if not covered:
        return
    campaign_prospects = select(Prospect.id).where(Prospect.campaign_id == campaign_id)
    db.session.execute(
        delete(Evidence)
        .where(Evidence.prospect_id.in_(campaign_prospects), Evidence.site.in_(covered))
        .execution_options(synchronize_session=False)
    )
    wanted = set(covered)

    def values() -> Iterator[dict[str, Any]]:
        for domain, fact in facts.items():
            prospect_id = ids.get(domain)
            if prospect_id is None:
                continue
            for site, pages in fact.evidence.items():
                if site not in wanted:
                    continue
                for page in pages[:EVIDENCE_STORED]:
                    yield {"prospect_id": prospect_id, "import_id": import_id, "site": site,
                           **evidence_values(page)}  # fmt: skip

    for chunk in batches(values(), 50_000):
        bulk_insert(Evidence, chunk)
