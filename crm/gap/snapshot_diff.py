"""Shape the diff of two snapshots (crm.gap.diff) and linkable assets for GapImport's JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm.gap.assets import Asset
from crm.gap.diff import SnapshotDiff

# Domains of each list the import page shows.
SAMPLE = 100


def diff_json(diff: SnapshotDiff | None, previous_id: int | None) -> dict[str, Any]:
    """Return new gap domains, gaps closed and competitor links lost: counts and samples."""
    if diff is None or previous_id is None:
        return {"previous_import_id": None, "new_gap": 0, "closed": 0, "lost": 0,
                "samples": {"new_gap": [], "closed": [], "lost": []}}  # fmt: skip
    return {
        "previous_import_id": previous_id,
        "new_gap": diff.new_gap_count,
        "closed": diff.closed_count,
        "lost": diff.lost_count,
        "samples": {
            "new_gap": list(diff.new_gaps[:SAMPLE]),
            "closed": list(diff.closed_gaps[:SAMPLE]),
            "lost": [[x.domain, x.site, x.backlinks_before] for x in diff.lost_links[:SAMPLE]],
        },
    }


def assets_json(assets: Mapping[str, Sequence[Asset]]) -> dict[str, list[dict[str, Any]]]:
    """Return linkable assets per competitor as stored on GapImport.assets."""
    return {
        site: [
            {"url": a.url, "gap_domains": a.gap_domains, "sample": list(a.sample),
             "broken": a.broken}
            for a in items
        ]
        for site, items in assets.items()
    }  # fmt: skip
