"""Anchor mix and link velocity, with the warnings a link builder heeds (pure).

Figures are per target page and per site. A link whose last check saw another
anchor than was logged counts with the anchor type it really has; links with a
rel or anchor mismatch are counted so the panel can say how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from crm.links.anchors import phrase
from crm.links.settings import LinkSettings
from crm.models import AnchorType


@dataclass(frozen=True)
class MixLink:
    anchor: str
    anchor_type: AnchorType
    target_key: str
    placed_on: date
    rel_mismatch: bool = False
    anchor_mismatch: bool = False


@dataclass
class ScopeMix:
    """The anchor mix of one scope (a target page, or the whole site)."""

    label: str
    total: int
    by_type: dict[AnchorType, int]
    top_anchor: str = ""
    top_anchor_count: int = 0
    rel_mismatches: int = 0
    anchor_mismatches: int = 0

    def share(self, anchor_type: AnchorType) -> float:
        return self.by_type.get(anchor_type, 0) / self.total if self.total else 0.0

    @property
    def rows(self) -> list[tuple[AnchorType, int, float]]:
        return [(t, self.by_type.get(t, 0), self.share(t)) for t in AnchorType]


@dataclass
class RiskReport:
    site: ScopeMix
    target: ScopeMix | None
    weeks: list[tuple[date, int]] = field(default_factory=list)
    trailing_average: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def week_max(self) -> int:
        return max([n for _, n in self.weeks] + [1])


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _mix(label: str, links: Sequence[MixLink]) -> ScopeMix:
    anchors = Counter(phrase(link.anchor) for link in links if phrase(link.anchor))
    top, count = anchors.most_common(1)[0] if anchors else ("", 0)
    return ScopeMix(
        label=label,
        total=len(links),
        by_type=dict(Counter(link.anchor_type for link in links)),
        top_anchor=top,
        top_anchor_count=count,
        rel_mismatches=sum(link.rel_mismatch for link in links),
        anchor_mismatches=sum(link.anchor_mismatch for link in links),
    )


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _mix_warnings(mix: ScopeMix, settings: LinkSettings, adding: bool) -> list[str]:
    out = []
    verb = "would be" if adding else "are"
    exact = mix.share(AnchorType.EXACT)
    if mix.total and exact > settings.exact_share_max:
        out.append(
            f"Exact-match anchors {verb} {_pct(exact)} of links to {mix.label} "
            f"({mix.by_type.get(AnchorType.EXACT, 0)} of {mix.total}; "
            f"threshold {_pct(settings.exact_share_max)})."
        )
    if mix.total >= settings.dominant_min_links and mix.top_anchor_count:
        top_share = mix.top_anchor_count / mix.total
        if top_share > settings.dominant_share_max:
            out.append(
                f"One anchor text dominates {mix.label}: “{mix.top_anchor}” {verb} "
                f"{_pct(top_share)} of its links ({mix.top_anchor_count} of {mix.total}; "
                f"threshold {_pct(settings.dominant_share_max)})."
            )
    return out


def weekly_counts(days: Iterable[date], until: date, weeks: int) -> list[tuple[date, int]]:
    """Links per week (Monday first) for the `weeks` weeks ending with `until`'s week."""
    last = week_start(until)
    counts = Counter(week_start(d) for d in days)
    return [
        (last - timedelta(weeks=i), counts.get(last - timedelta(weeks=i), 0))
        for i in range(weeks - 1, -1, -1)
    ]


def assess_risk(
    site_links: Sequence[MixLink],
    *,
    settings: LinkSettings,
    today: date,
    site_label: str,
    target_key: str | None = None,
    target_label: str = "",
    candidate: MixLink | None = None,
) -> RiskReport:
    """Anchor mix of the site (and of one target page) and the weekly velocity, with warnings.

    With a `candidate`, the figures include it: the warnings say what saving it would do.
    """
    links = [*site_links, *([candidate] if candidate else [])]
    adding = candidate is not None
    site = _mix(site_label, links)
    warnings = _mix_warnings(site, settings, adding)
    target = None
    if target_key is not None:
        target = _mix(target_label or target_key, [x for x in links if x.target_key == target_key])
        warnings = _mix_warnings(target, settings, adding) + warnings
    week_of = candidate.placed_on if candidate else today
    weeks = weekly_counts([x.placed_on for x in links], max(week_of, today), 12)
    this_week = sum(1 for x in links if week_start(x.placed_on) == week_start(week_of))
    history = weekly_counts(
        [x.placed_on for x in links], week_start(week_of) - timedelta(days=7),
        settings.velocity_weeks,
    )  # fmt: skip
    average = sum(n for _, n in history) / max(1, settings.velocity_weeks)
    if this_week >= settings.velocity_min_links and this_week > settings.velocity_factor * average:
        warnings.append(
            f"Velocity spike: {this_week} links in the week of {week_start(week_of).isoformat()} "
            f"against {average:.1f} a week over the previous {settings.velocity_weeks} weeks "
            f"(threshold {settings.velocity_factor:g}×)."
        )
    if site.rel_mismatches or site.anchor_mismatches:
        warnings.append(
            f"{site.rel_mismatches} link(s) carry another rel and {site.anchor_mismatches} "
            "another anchor than was logged (counted as found on the page)."
        )
    return RiskReport(
        site=site, target=target, weeks=weeks, trailing_average=average, warnings=warnings
    )
