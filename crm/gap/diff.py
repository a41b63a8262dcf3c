"""What changed between two snapshots of a campaign, and when to re-import.

Each snapshot is {referring domain: {site: backlinks}} (what a snapshot
stores). The diff names new gap domains, gaps closed (the domain now links
to us) and competitor links lost. A link can only be "lost" for a site the
newer import has an export of; sites it does not cover are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.gap.compute import GapSettings

Snapshot = Mapping[str, Mapping[str, int]]

# Re-run cadence of a campaign's exports unless it sets its own: quarterly.
DEFAULT_CADENCE = timedelta(days=91)


@dataclass(frozen=True, slots=True)
class LostLink:
    """A competitor a domain linked to before and no longer does."""

    domain: str
    site: str
    backlinks_before: int


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """New gap domains, gaps closed, competitor links lost (sorted for display)."""

    new_gaps: tuple[str, ...]
    closed_gaps: tuple[str, ...]
    lost_links: tuple[LostLink, ...]

    @property
    def empty(self) -> bool:
        return not (self.new_gaps or self.closed_gaps or self.lost_links)


def _linked(sites: Mapping[str, int] | None, site: str) -> bool:
    return bool(sites) and sites.get(site, 0) > 0  # type: ignore[union-attr]


def is_gap(sites: Mapping[str, int] | None, settings: GapSettings) -> bool:
    """Tell whether a domain with these backlinks per site is in the gap."""
    if not sites or _linked(sites, settings.site):
        return False
    overlap = sum(1 for c in settings.competitors if _linked(sites, c))
    return overlap >= settings.min_overlap


def diff_snapshots(
    before: Snapshot,
    after: Snapshot,
    settings: GapSettings,
    *,
    covered: Collection[str] | None = None,
) -> SnapshotDiff:
    """Compare two snapshots; `covered` is the sites the newer import has exports of."""
    new_gaps = sorted(
        d
        for d, sites in after.items()
        if is_gap(sites, settings) and not is_gap(before.get(d), settings)
    )
    closed = sorted(
        d
        for d, sites in before.items()
        if is_gap(sites, settings) and _linked(after.get(d), settings.site)
    )
    watched = [c for c in settings.competitors if covered is None or c in covered]
    lost = []
    for domain in sorted(before):
        old = before[domain]
        new = after.get(domain)
        for site in watched:
            if _linked(old, site) and not _linked(new, site):
                lost.append(LostLink(domain, site, old[site]))
    return SnapshotDiff(tuple(new_gaps), tuple(closed), tuple(lost))


def is_stale(
    newest_snapshot_at: datetime | None, now: datetime, cadence: timedelta = DEFAULT_CADENCE
) -> bool:
    """Tell whether the campaign's exports are due for a re-run (no snapshot yet: due)."""
    return newest_snapshot_at is None or now - newest_snapshot_at >= cadence
