"""Shape the diff of two snapshots for GapImport.diff (what changed since last time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm.gap.compute import GapSettings

SAMPLE = 100


def _in_gap(sites: Mapping[str, int], settings: GapSettings) -> bool:
    if sites.get(settings.site, 0) > 0:
        return False
    return sum(1 for c in settings.competitors if sites.get(c, 0) > 0) >= settings.min_overlap


def snapshot_diff(
    before: Mapping[str, Mapping[str, int]],
    after: Mapping[str, Mapping[str, int]],
    settings: GapSettings,
    *,
    covered: Sequence[str],
    previous_id: int | None,
) -> dict[str, Any]:
    """Return new gap domains, gaps closed and competitor links lost, as counts and samples.

    A competitor link is lost when the previous snapshot had it and this
    import's export of that competitor no longer lists it live.
    """
    new_gap: list[str] = []
    closed: list[str] = []
    links_lost: list[list[str]] = []
    if previous_id is not None:
        competitors = [c for c in settings.competitors if c in set(covered)]
        for domain, sites in after.items():
            was = before.get(domain, {})
            if _in_gap(sites, settings) and not _in_gap(was, settings):
                new_gap.append(domain)
            if _in_gap(was, settings) and sites.get(settings.site, 0) > 0:
                closed.append(domain)
        for domain, was in before.items():
            now = after.get(domain, {})
            for competitor in competitors:
                if was.get(competitor, 0) > 0 and now.get(competitor, 0) <= 0:
                    links_lost.append([domain, competitor])
    new_gap.sort()
    closed.sort()
    links_lost.sort()
    return {
        "previous_import_id": previous_id,
        "new_gap": len(new_gap),
        "closed": len(closed),
        "lost": len(links_lost),
        "samples": {
            "new_gap": new_gap[:SAMPLE],
            "closed": closed[:SAMPLE],
            "lost": links_lost[:SAMPLE],
        },
    }
