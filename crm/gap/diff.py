"""What changed between two snapshots of a campaign, and when to re-import.

Each snapshot is {referring domain: {site: backlinks}} (what a snapshot
stores). The diff names new gap domains, gaps closed (the domain now links
to us) and competitor links lost. A link can only be "lost" for a site the
newer import has an export of; sites it does not cover are left out.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm.gap.compute import GapSettings

Snapshot = Mapping[str, Mapping[str, int]]

# Re-run cadence of a campaign's exports unless it sets its own: quarterly.
DEFAULT_CADENCE = timedelta(days=91)


@dataclass(frozen=True, slots=True, order=True)
class LostLink:
    """A competitor a domain linked to before and no longer does."""

    domain: str
    site: str
    backlinks_before: int


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """New gap domains, gaps closed, competitor links lost: counts, and the first of each sorted."""

    new_gaps: tuple[str, ...]
    closed_gaps: tuple[str, ...]
    lost_links: tuple[LostLink, ...]
    new_gap_count: int
    closed_count: int
    lost_count: int

    @property
    def empty(self) -> bool:
        return not (self.new_gap_count or self.closed_count or self.lost_count)


def _linked(sites: Mapping[str, int] | None, site: str) -> bool:
    return bool(sites) and sites.get(site, 0) > 0  # type: ignore[union-attr]


def is_gap(sites: Mapping[str, int] | None, settings: GapSettings) -> bool:
    """Tell whether a domain with these backlinks per site is in the gap."""
    if not sites or _linked(sites, settings.site):
        return False
    overlap = sum(1 for c in settings.competitors if _linked(sites, c))
    return overlap >= settings.min_overlap


class DiffTally:
    """Build the diff of two snapshots one domain at a time, keeping only the first few.

    `covered` is the sites the newer import has exports of (a link can only be
    lost for those); `limit` how many of each list are kept (the first, sorted).
    """

    def __init__(
        self, settings: GapSettings, covered: Collection[str] | None = None, limit: int = 100
    ) -> None:
        self.settings = settings
        self.watched = [c for c in settings.competitors if covered is None or c in covered]
        self.limit = limit
        self.new_gaps: list[str] = []
        self.closed: list[str] = []
        self.lost: list[LostLink] = []
        self.counts = [0, 0, 0]

    def _keep(self, kept: list[Any], item: Any, which: int) -> None:
        self.counts[which] += 1
        if len(kept) < self.limit or item < kept[-1]:
            insort(kept, item)
            del kept[self.limit :]

    def add(
        self, domain: str, before: Mapping[str, int] | None, after: Mapping[str, int] | None
    ) -> None:
        """Count one domain's change (None: not in that snapshot)."""
        settings = self.settings
        if is_gap(after, settings) and not is_gap(before, settings):
            self._keep(self.new_gaps, domain, 0)
        if before and is_gap(before, settings) and _linked(after, settings.site):
            self._keep(self.closed, domain, 1)
        if before:
            for site in self.watched:
                if _linked(before, site) and not _linked(after, site):
                    self._keep(self.lost, LostLink(domain, site, before[site]), 2)

    def diff(self) -> SnapshotDiff:
        return SnapshotDiff(tuple(self.new_gaps), tuple(self.closed), tuple(self.lost),
                            *self.counts)  # fmt: skip


def is_stale(
    newest_snapshot_at: datetime | None, now: datetime, cadence: timedelta = DEFAULT_CADENCE
) -> bool:
    """Tell whether the campaign's exports are due for a re-run (no snapshot yet: due)."""
    return newest_snapshot_at is None or now - newest_snapshot_at >= cadence
