"""A snapshot's evidence rows: the best referring pages per prospect and site (flush only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from crm.extensions import db
from crm.gap.bulk import batches, bulk_insert, clip
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.facts import DomainFacts
from crm.models import Evidence

# Evidence pages kept per prospect and site (the best first): "why they got the link".
EVIDENCE_STORED = 3

# Evidence columns, in the order of the fields of an import's pages.
_PAGE_COLUMNS = PageEvidence._fields


def _stored(page: PageEvidence) -> tuple[Any, ...]:
    """Return a page's fields as stored: the short ones clipped to their columns."""
    return (page.page_url, page.title, page.target_url, page.anchor, clip(page.rel, 40),
            page.first_seen, page.last_seen, page.http_code, clip(page.lost, 40),
            clip(page.language, 16), clip(page.page_type, 120),
            clip(page.page_category, 200))  # fmt: skip


def page_of(row: Evidence) -> PageEvidence:
    """Return a stored evidence row as the page an import reads."""
    return PageEvidence(*(getattr(row, name) for name in _PAGE_COLUMNS))


def stored_pages(
    prospect_ids: Sequence[int], sites: Sequence[str]
) -> dict[int, dict[str, tuple[PageEvidence, ...]]]:
    """Return these prospects' stored pages of these sites, best first, by prospect and site."""
    found: dict[int, dict[str, list[PageEvidence]]] = {}
    columns = [getattr(Evidence, name) for name in _PAGE_COLUMNS]
    for chunk in batches(prospect_ids):
        # Columns, not ORM objects: a re-import carrying a site reads them for every batch.
        rows = db.session.execute(
            select(Evidence.prospect_id, Evidence.site, *columns)
            .where(Evidence.prospect_id.in_(chunk), Evidence.site.in_(sites))
            .order_by(Evidence.id)
        )
        for prospect_id, site, *fields in rows:
            found.setdefault(prospect_id, {}).setdefault(site, []).append(PageEvidence(*fields))
    return {pid: {site: tuple(pages) for site, pages in by_site.items()}
            for pid, by_site in found.items()}  # fmt: skip


def delete_evidence(prospect_ids: Sequence[int], covered: Sequence[str]) -> None:
    """Delete these prospects' evidence of the sites this import covers (it brings new)."""
    if not covered:
        return
    for chunk in batches(prospect_ids):
        db.session.execute(
            delete(Evidence)
            .where(Evidence.prospect_id.in_(chunk), Evidence.site.in_(covered))
            .execution_options(synchronize_session=False)
        )


def insert_evidence(
    import_id: int, ids: dict[str, int], facts: dict[str, DomainFacts], covered: Sequence[str]
) -> None:
    """Insert the best pages of the batch's prospects for the sites this import covers."""
    wanted = set(covered)
    bulk_insert(
        Evidence,
        [
            (prospect_id, site, *_stored(page))
            for domain, fact in facts.items()
            if (prospect_id := ids.get(domain)) is not None
            for site, pages in fact.evidence.items()
            if site in wanted
            for page in pages[:EVIDENCE_STORED]
        ],
        columns=("prospect_id", "site", *_PAGE_COLUMNS),
        same={"import_id": import_id},
    )  # fmt: skip
