"""Turn one domain's gap facts into a prospect's link type, score, visibility, target, angle.

The rules themselves are pure (crm.gap.linktype, qualify, scoring, mapping);
this module feeds them the campaign's settings and what the team decided by
hand, which always wins: a corrected link type, a relevance override, a
restored prospect, an unwinnable or manual exclusion, a confirmed target, an
angle already set. `reassess` applies the rules again to stored prospects
(after a settings change or a correction) from their columns and evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import case, func, select, update

from crm.extensions import db
from crm.gap.bulk import batches, bulk_update
from crm.gap.compute import GapRow, GapSettings, classify
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.facts import DomainFacts
from crm.gap.linktype import LinkType, broken_links, domain_link_type
from crm.gap.page_rules import PageVerdict, judge_pages, verdict_key
from crm.gap.qualify import UNWINNABLE, CampaignFilters, ExclusionRules, first_exclusion
from crm.gap.qualify import rule_exclusion as rule_only
from crm.gap.scoring import ScoreWeights, score
from crm.gap.settings import campaign_config
from crm.gap.snapshot_evidence import page_of
from crm.gap.targets import TargetPage as PitchPage
from crm.gap.targets import suggest_angle, suggest_target
from crm.models import Campaign, Contact, Evidence, Prospect, utcnow

# excluded_by values a person set; the rules never replace them.
MANUAL_EXCLUSIONS = (UNWINNABLE, "manual")
LINK_TYPES = {t.value: t.label for t in LinkType}


class PriorState(NamedTuple):
    """What the database already holds about a prospect, as the rules need it."""

    id: int
    link_type: str | None
    link_type_manual: bool
    broken_link: bool
    relevance_override: int | None
    restored: bool
    excluded_by: str | None
    excluded_note: str
    target_page_id: int | None
    target_confirmed: bool
    angle: str | None
    contacts: int


@dataclass(frozen=True)
class GapContext:
    """Everything about a campaign the rules need, read once per import."""

    gap: GapSettings
    filters: CampaignFilters
    rules: ExclusionRules
    weights: ScoreWeights
    keywords: tuple[str, ...]
    targets: tuple[PitchPage, ...]
    target_ids: dict[str, int]


def gap_context(campaign: Campaign) -> GapContext:
    """Read a campaign's gap settings, rules and target pages."""
    config = campaign_config(campaign)
    min_overlap = max(1, campaign.min_overlap or 1)
    pages = list(campaign.target_pages)
    keywords = list(config.keywords)
    for page in pages:
        keywords += [t for t in page.topic_list if t not in keywords]
    return GapContext(
        gap=GapSettings(campaign.site.domain, tuple(campaign.competitor_domains), min_overlap),
        filters=config.filters(min_overlap),
        rules=config.rules(),
        weights=config.score_weights(),
        keywords=tuple(keywords),
        targets=tuple(
            PitchPage(p.url, p.title, p.category.value, tuple(p.topic_list)) for p in pages
        ),
        target_ids={p.url: p.id for p in pages},
    )


# The rules read at most this many pages of a domain (the best come first):
# enough to tell its link type and topic, and 100,000 domains stay quick.
PAGES_READ = 8


def _texts(pages: Sequence[PageEvidence]) -> list[str]:
    """Titles, URLs and categories of the pages, each text once."""
    texts: dict[str, None] = {}
    for page in pages:
        for text in (page.title, page.page_url, page.page_category):
            if text:
                texts[text] = None
    return list(texts)


def judge_facts(facts: Iterable[DomainFacts]) -> dict[tuple[Any, ...], PageVerdict]:
    """Return the verdicts of every evidence page of these domains.

    Those the reduction judged come with the facts; the others (stored pages of a
    prospect, of a site carried over) are judged here, in one DuckDB query.
    """
    verdicts: dict[tuple[Any, ...], PageVerdict] = {}
    unjudged = []
    for fact in facts:
        known = fact.verdicts or {}
        verdicts.update(known)
        unjudged += [page for pages in fact.evidence.values() for page in pages
                     if verdict_key(page) not in known]  # fmt: skip
    verdicts.update(judge_pages(unjudged))
    return verdicts


def assess(
    row: GapRow,
    fact: DomainFacts | None,
    state: PriorState | None,
    ctx: GapContext,
    verdicts: Mapping[tuple[Any, ...], PageVerdict],
) -> dict[str, Any]:
    """Return the prospect columns the rules decide for one domain (always the same keys).

    `verdicts` holds its pages' verdicts (`judge_facts` of a batch of domains).
    """
    evidence = fact.evidence if fact is not None else {}
    competitors = ctx.gap.competitors
    theirs = [p for site in competitors for p in evidence.get(site, ())]
    pages = (theirs or [p for group in evidence.values() for p in group])[:PAGES_READ]
    why: dict[str, str] = {}

    link_type: LinkType | None = None
    if state is not None and state.link_type_manual and state.link_type in LINK_TYPES:
        link_type = LinkType(state.link_type)
        why["link_type"] = "set by hand"
    elif pages:
        guess = domain_link_type(pages, verdicts)
        link_type, why["link_type"] = guess.link_type, guess.evidence
    elif state is not None and state.link_type in LINK_TYPES:
        link_type = LinkType(state.link_type)  # evidence kept from an earlier import
    if pages:
        broken = broken_links(evidence, competitors)
        is_broken = bool(broken)
        if broken:
            why["broken_link"] = f"{broken[0].page_url}: {broken[0].reason}"
    else:
        is_broken = state.broken_link if state is not None else False

    texts = _texts(pages)
    result = score(
        authority=row.authority,
        keywords=ctx.keywords,
        texts=texts,
        link_type=link_type or LinkType.OTHER,
        overlap=row.overlap,
        competitor_count=len(competitors),
        contactable=True if state is not None and state.contacts else None,
        manual_relevance=state.relevance_override if state is not None else None,
        weights=ctx.weights,
    )
    out: dict[str, Any] = {
        "link_type": link_type.value if link_type else None,
        "broken_link": is_broken,
        "score": result.total,
        "excluded_by": None,
        "excluded_note": "",
    }

    if state is not None and state.restored:
        pass
    elif state is not None and state.excluded_by in MANUAL_EXCLUSIONS:
        out["excluded_by"], out["excluded_note"] = state.excluded_by, state.excluded_note
    elif fact is not None:
        # Page patterns read the pages linking to competitors; a hand-listed page otherwise.
        linked = competitors if theirs else None
        if row.is_gap:
            hit = first_exclusion(fact, row.overlap, ctx.filters, ctx.rules, competitors=linked,
                                  verdicts=verdicts)  # fmt: skip
        else:
            hit = rule_only(fact, ctx.rules, competitors=linked, verdicts=verdicts)
        if hit is not None:
            out["excluded_by"], out["excluded_note"] = hit.code, hit.reason

    if state is not None and state.target_confirmed:
        out["target_page_id"] = state.target_page_id
    else:
        target = suggest_target(link_type or LinkType.OTHER, texts, ctx.targets)
        out["target_page_id"] = ctx.target_ids.get(target.value) if target else None
        if target is not None:
            why["target"] = target.reason
    angle = suggest_angle(link_type or LinkType.OTHER, broken=is_broken)
    out["angle"] = state.angle if state is not None and state.angle else angle.value
    if out["angle"] == angle.value:
        why["angle"] = angle.reason

    out["score_parts"] = {
        name: {"value": round(part.value, 3), "why": part.explanation}
        for name, part in (("authority", result.authority), ("relevance", result.relevance),
                           ("feasibility", result.feasibility))
    } | {"weights": {"authority": ctx.weights.authority, "relevance": ctx.weights.relevance,
                     "feasibility": ctx.weights.feasibility}, "why": why}  # fmt: skip
    return out


# -- applying the rules again to stored prospects -----------------------------

# Prospects re-assessed per chunk: their rows, evidence and contact counts read at once.
REASSESS_CHUNK = 2000


def stored_facts(prospect: Prospect, evidence: Sequence[Evidence]) -> DomainFacts:
    """Rebuild a prospect's DomainFacts from its columns and evidence rows."""
    by_site: dict[str, list[PageEvidence]] = {}
    for row in evidence:
        by_site.setdefault(row.site, []).append(page_of(row))
    rels = [row.rel for row in evidence if row.rel]
    return DomainFacts(
        prospect.domain,
        backlinks=dict(prospect.backlinks or {}),
        authority=prospect.authority,
        traffic=prospect.traffic,
        dofollow=prospect.dofollow,
        paid_or_ugc_only=bool(rels) and all("sponsored" in r or "ugc" in r for r in rels),
        spam=prospect.spam,
        language=prospect.language,
        evidence={site: tuple(pages) for site, pages in by_site.items()},
    )


def reapply_rules(campaign: Campaign, ids: Sequence[int]) -> int:
    """Assess prospects again, then recompute their gap membership and tier (flush).

    After a change of the campaign's rules; a batch of ids at a time, so a big
    campaign's change runs in short transactions (crm.gap.bulk_changes). The
    assessment reads before it writes: SQLite queues no writers, and a batch
    that began by writing would take the lock back the moment the previous one
    committed, keeping another writer waiting for many batches (10 s measured).
    """
    done = reassess(campaign, ids)  # its rules do not read the stored gap membership
    n, total = campaign.min_overlap, len(campaign.competitors)
    gap = Prospect.links_to_us.is_(False) & (Prospect.overlap >= n)
    tier = case((~gap, None), (Prospect.overlap >= total, 1), (Prospect.overlap >= 2, 2), else_=3)
    for chunk in batches(ids):
        db.session.execute(
            update(Prospect)
            .where(
                Prospect.campaign_id == campaign.id,
                Prospect.id.in_(chunk),
                Prospect.last_import_id.is_not(None),
            )
            .values(in_gap=gap, tier=tier)
            .execution_options(synchronize_session=False)
        )
    return done


def reassess(campaign: Campaign, ids: Sequence[int] | None = None) -> int:
    """Apply the campaign's rules again to its prospects (or some of them); return how many."""
    ctx = gap_context(campaign)
    if ids is None:
        ids = list(
            db.session.scalars(select(Prospect.id).where(Prospect.campaign_id == campaign.id))
        )
    now = utcnow()
    done = 0
    for chunk in batches(ids, REASSESS_CHUNK):
        prospects = list(
            db.session.scalars(
                select(Prospect).where(Prospect.id.in_(chunk), Prospect.campaign_id == campaign.id)
            )
        )
        evidence: dict[int, list[Evidence]] = {}
        for page in db.session.scalars(select(Evidence).where(Evidence.prospect_id.in_(chunk))):
            evidence.setdefault(page.prospect_id, []).append(page)
        contacts = dict(
            db.session.execute(
                select(Contact.prospect_id, func.count())
                .where(Contact.prospect_id.in_(chunk))
                .group_by(Contact.prospect_id)
            ).all()
        )
        facts = {p.id: stored_facts(p, evidence.get(p.id, [])) for p in prospects}
        verdicts = judge_facts(facts.values())
        values = []
        for p in prospects:
            fact = facts[p.id]
            row = classify(fact, ctx.gap)
            state = PriorState(p.id, p.link_type, p.link_type_manual, p.broken_link,
                               p.relevance_override, p.restored, p.excluded_by, p.excluded_note,
                               p.target_page_id, p.target_confirmed, p.angle,
                               contacts.get(p.id, 0))  # fmt: skip
            values.append(
                {"id": p.id, "updated_at": now, **assess(row, fact, state, ctx, verdicts)}
            )
        bulk_update(Prospect, values)
        done += len(values)
    db.session.expire_all()
    return done
