"""Majestic · Backlinks.

A flag column is set when its cell holds anything. Some rows of real
Majestic files are broken CSV: they are skipped and counted, never silently.
`SourceTrustFlow` (0–100) is the referring page's Trust Flow and stands in
for authority.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.gap.exports.base import (
    Cells,
    DomainFolder,
    ExportFormat,
    RawLink,
    col,
    domain_cell,
    evidence_rank,
)
from crm.gap.exports.model import NOFOLLOW, ExportInfo
from crm.gap.exports.values import parse_authority, parse_flag


class MajesticBacklinks(ExportFormat):
    id = "majestic-backlinks"
    label = "Majestic Backlinks"
    has_target = True
    skip_broken = True
    required = {
        "page_url": col("Source URL"),
        "target": col("Target URL"),
    }
    optional = {
        "anchor": col("Anchor Text", "AnchorText"),
        "last_seen": col("Source Crawl Date", "Last Seen", "LastSeen"),
        "first_seen": col("Source First Found Date", "First Indexed", "FirstIndexedDate"),
        "nofollow": col("FlagNoFollow", kind="flag"),
        "lost": col("FlagDeleted", "Date Lost", "DateLost", kind="flag"),
        "authority": col("SourceTrustFlow", "Source Trust Flow", kind="authority"),
        "title": col("SourceTitle", "Source Title"),
        "language": col("SourceLanguage", "Source Language"),
    }
    signature = ("flagnofollow", "sourcetrustflow", "sourcecitationflow", "flagimagelink")

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        authority = cells.get("authority", parse_authority)
        rel = NOFOLLOW if cells.get("nofollow", parse_flag) else 0
        lost = bool(cells.get("lost", parse_flag))
        rank = evidence_rank(authority, rel, lost)
        return (
            (
                cells.get("page_url", domain_cell(folder)),
                info.owners[0],
                1,
                authority,
                None,
                rel,
                None,
                lost,
                cells.raw("language"),
                rank,
                cells.raw("target"),
                cells.parts,
            ),
        )


FORMATS: tuple[ExportFormat, ...] = (MajesticBacklinks(),)
