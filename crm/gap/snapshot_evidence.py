"""A snapshot's evidence rows: the best referring pages per prospect and site (flush only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete

from crm.extensions import db
from crm.gap.bulk import bulk_insert
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.facts import DomainFacts
from crm.models import Evidence

# Evidence pages kept per prospect and site (the best first): "why they got the link".
EVIDENCE_STORED = 3
# Prospect ids per DELETE statement.
CHUNK = 5000


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def evidence_values(page: PageEvidence) -> dict[str, Any]:
    """Return the Evidence row columns of one referring page."""
    return {
        "page_url": page.page_url,
        "title": page.title,
        "target_url": page.target_url,
        "anchor": page.anchor,
        "rel": _clip(page.rel, 40),
        "first_seen": page.first_seen,
        "last_seen": page.last_seen,
        "http_code": page.http_code,
        "lost": _clip(page.lost, 40),
        "language": _clip(page.language, 16),
        "page_type": _clip(page.page_type, 120),
        "page_category": _clip(page.page_category, 200),
    }


def delete_evidence(prospect_ids: Sequence[int], covered: Sequence[str]) -> None:
    """Delete these prospects' evidence of the sites this import covers (it brings new)."""
    if not covered:
        return
    for start in range(0, len(prospect_ids), CHUNK):
        chunk = prospect_ids[start : start + CHUNK]
        db.session.execute(
            delete(Evidence)
            .where(Evidence.prospect_id.in_(chunk), Evidence.site.in_(covered))
            .execution_options(synchronize_session=False)
        )


def insert_evidence(
    import_id: int, ids: dict[str, int], facts: dict[str, DomainFacts], covered: Sequence[str]
) -> None:
    wanted = set(covered)
    bulk_insert(
        Evidence,
        [
            {"prospect_id": prospect_id, "site": site, **evidence_values(page)}
            for domain, fact in facts.items()
            if (prospect_id := ids.get(domain)) is not None
            for site, pages in fact.evidence.items()
            if site in wanted
            for page in pages[:EVIDENCE_STORED]
        ],
        same={"import_id": import_id},
    )  # fmt: skip
