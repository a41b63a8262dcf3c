"""A snapshot's prospects: decide a batch's by the rules, write them, reset the ones left out.

Services: flush only. A batch is decided first (reads and the pure rules) and
written after, so the caller's write lock is held for the writes alone; what
the team decided by hand (a restored prospect, an unwinnable mark, a
corrected link type, a confirmed target, an angle) is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update

from crm.extensions import db
from crm.gap.assess import GapContext, PriorState, assess, judge_facts
from crm.gap.bulk import batches, bulk_insert, bulk_update, clip
from crm.gap.compute import GapRow
from crm.gap.facts import DomainFacts
from crm.gap.snapshot_evidence import stored_pages
from crm.models import Contact, Evidence, GapImport, Prospect
from crm.models.prospect import category_bits_of


def has_prospects(campaign_id: int) -> bool:
    """Tell whether the campaign has any prospect yet."""
    return db.session.scalar(select(exists().where(Prospect.campaign_id == campaign_id))) or False


def newest_prospect_id() -> int:
    """Return the highest prospect id of any campaign (0 when there is none)."""
    return db.session.scalar(select(func.max(Prospect.id))) or 0


# Prospect columns an import sets; a prospect whose values did not change is not
# rewritten (a quarterly re-import mostly finds the same facts).
_COMPARED = (
    "in_gap", "links_to_us", "overlap", "tier", "category_bits", "competitors", "backlinks",
    "authority", "traffic", "dofollow", "spam", "language", "link_type", "broken_link", "score",
    "score_parts", "excluded_by", "excluded_note", "target_page_id", "angle",
)  # fmt: skip


def _prior_states(
    campaign_id: int, domains: Sequence[str]
) -> tuple[dict[str, PriorState], dict[str, tuple[Any, ...]]]:
    """Return what the rules need of these domains' prospects, and the values an import sets."""
    contacts = (
        select(func.count())
        .where(Contact.prospect_id == Prospect.id)
        .correlate(Prospect)
        .scalar_subquery()
    )
    states: dict[str, PriorState] = {}
    values: dict[str, tuple[Any, ...]] = {}
    width = len(PriorState._fields)
    for chunk in batches(domains):
        stmt = select(
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
            contacts,
            *(getattr(Prospect, name) for name in _COMPARED),
        ).where(Prospect.campaign_id == campaign_id, Prospect.domain.in_(chunk))
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


class Decided:
    """A batch's prospects as the rules decided them: rows to insert, to update, to keep."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # the batch's prospects that exist already
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.unchanged: list[int] = []


def decide_prospects(
    gap_import: GapImport,
    rows: list[GapRow],
    facts: dict[str, DomainFacts],
    ctx: GapContext,
    now: datetime,
    *,
    known: bool = True,
    carried: Sequence[str] = (),
) -> Decided:
    """Decide one prospect per referring domain of a batch (reads only, writes nothing).

    `known` False: the campaign had no prospects when the import began, so none is read.
    `carried`: sites this import has no export of; the rules read the pages stored
    for them (the facts of this import have their counts, not their pages).
    """
    campaign_id = gap_import.campaign_id
    decided = Decided()
    inserts, updates, unchanged = decided.inserts, decided.updates, decided.unchanged
    prior, before = _prior_states(campaign_id, list(facts)) if known else ({}, {})
    decided.ids = {domain: state.id for domain, state in prior.items()}
    if carried and decided.ids:
        kept = stored_pages(list(decided.ids.values()), carried)
        for domain, prospect_id in decided.ids.items():
            if prospect_id in kept:
                facts[domain].evidence = {**facts[domain].evidence, **kept[prospect_id]}
    verdicts = judge_facts(facts.values())
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
            "language": clip(fact.language, 16),
            **assess(row, fact, state, ctx, verdicts),
        }
        if state is None:
            inserts.append({"domain": row.domain, **values})
        elif tuple(values[k] for k in _COMPARED) != before[row.domain]:
            updates.append({"id": state.id, "updated_at": now, "last_import_id": gap_import.id,
                            **values})  # fmt: skip
        else:
            unchanged.append(state.id)
    return decided


def write_prospects(
    gap_import: GapImport, decided: Decided, now: datetime, *, newest_before: int
) -> dict[str, int]:
    """Write a batch's decided prospects; return {domain: prospect id} of the batch.

    `newest_before`: the newest prospect id read before the batch was decided.
    """
    campaign_id = gap_import.campaign_id
    bulk_insert(
        Prospect,
        decided.inserts,
        same={"campaign_id": campaign_id, "source": "import", "created_at": now,
              "status_changed_at": now, "updated_at": now, "last_import_id": gap_import.id},
    )  # fmt: skip
    bulk_update(Prospect, decided.updates)
    for chunk in batches(decided.unchanged):
        # Moving to a snapshot is no change of the prospect (updated_at has an onupdate).
        db.session.execute(
            update(Prospect)
            .where(Prospect.id.in_(chunk))
            .values(last_import_id=gap_import.id, updated_at=Prospect.updated_at)
            .execution_options(synchronize_session=False)
        )
    ids = dict(decided.ids)
    if decided.inserts:
        # The new rows have ids past the newest one before them: one range read by
        # primary key, not a look-up by domain per row. It filters on the id alone (by
        # campaign too, SQLite would read the campaign's index, every prospect so far);
        # others may have added prospects since, so only the batch's are kept.
        inserted = {row["domain"] for row in decided.inserts}
        found = db.session.execute(
            select(Prospect.domain, Prospect.id, Prospect.campaign_id).where(
                Prospect.id > newest_before
            )
        )
        ids.update((domain, prospect_id) for domain, prospect_id, campaign in found
                   if campaign == campaign_id and domain in inserted)  # fmt: skip
    return ids


def prospects_left_out(gap_import: GapImport) -> list[int]:
    """Return the campaign's prospects of earlier snapshots that this one does not mention."""
    return list(
        db.session.scalars(
            select(Prospect.id).where(
                Prospect.campaign_id == gap_import.campaign_id,
                Prospect.last_import_id.is_not(None),
                Prospect.last_import_id != gap_import.id,
            )
        )
    )


def reset_prospects(ids: Sequence[int], covered: Sequence[str], now: datetime) -> None:
    """Domains no export of this snapshot mentions keep their pipeline, lose their gap facts.

    Their evidence of the sites this import covers goes too: the new exports no longer show it.
    """
    for chunk in batches(ids):
        if covered:
            db.session.execute(
                delete(Evidence)
                .where(Evidence.prospect_id.in_(chunk), Evidence.site.in_(covered))
                .execution_options(synchronize_session=False)
            )
        db.session.execute(
            update(Prospect)
            .where(Prospect.id.in_(chunk))
            .values(**_GAP_RESET, updated_at=now)
            .execution_options(synchronize_session=False)
        )
