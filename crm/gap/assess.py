"""Turn one domain's gap facts into a prospect's link type, score, visibility, target, angle.

The rules themselves are pure (crm.gap.linktype, qualify, scoring, mapping);
this module feeds them the campaign's settings and what the team decided by
hand, which always wins: a corrected link type, a relevance override, a
restored prospect, an unwinnable or manual exclusion, a confirmed target, an
angle already set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from crm.gap.compute import GapRow, GapSettings
from crm.gap.exports import Evidence as PageEvidence
from crm.gap.reduce import DomainFacts
from crm.gap.settings import GapConfig, campaign_config
from crm.models import Campaign

# excluded_by values a person set; the rules never replace them.
MANUAL_EXCLUSIONS = ("unwinnable", "manual")


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
class TargetInfo:
    """One target page of the campaign, as plain values."""

    id: int
    url: str
    title: str
    category: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class GapContext:
    """Everything about a campaign the rules need, read once per import."""

    gap: GapSettings
    config: GapConfig
    targets: tuple[TargetInfo, ...]


def gap_context(campaign: Campaign) -> GapContext:
    """Read a campaign's gap settings, rules and target pages."""
    return GapContext(
        gap=GapSettings(
            site=campaign.site.domain,
            competitors=tuple(campaign.competitor_domains),
            min_overlap=max(1, campaign.min_overlap or 1),
        ),
        config=campaign_config(campaign),
        targets=tuple(
            TargetInfo(t.id, t.url, t.title, t.category.value, tuple(t.topic_list))
            for t in campaign.target_pages
        ),
    )


def _pages(fact: DomainFacts | None) -> Mapping[str, Sequence[PageEvidence]]:
    return fact.evidence if fact is not None else {}


def assess(
    row: GapRow, fact: DomainFacts | None, state: PriorState | None, ctx: GapContext
) -> dict[str, Any]:
    """Return the prospect columns the rules decide for one domain."""
    _pages(fact)
    out: dict[str, Any] = {
        "link_type": None,
        "broken_link": False,
        "score": 0.0,
        "score_parts": {},
        "excluded_by": None,
        "excluded_note": "",
    }
    if state is not None:
        if state.link_type_manual:
            out["link_type"] = state.link_type
        if state.restored:
            out["excluded_by"] = None
        elif state.excluded_by in MANUAL_EXCLUSIONS:
            out["excluded_by"] = state.excluded_by
            out["excluded_note"] = state.excluded_note
        if state.target_confirmed:
            out["target_page_id"] = state.target_page_id
    return out
