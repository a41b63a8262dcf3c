"""Majestic · Backlinks.

A flag column is set when its cell holds anything. Some rows of real
Majestic files are broken CSV: they are skipped and counted, never silently.
`SourceTrustFlow` (0–100) is the referring page's Trust Flow and stands in
for authority.
"""

from __future__ import annotations

from crm.gap.exports.cells import AUTHORITY, FLAG, URL
from crm.gap.exports.formats import ExportFormat, LinkRule, col


class MajesticBacklinks(ExportFormat):
    id = "majestic-backlinks"
    label = "Majestic Backlinks"
    has_target = True
    skip_broken = True
    required = {
        "page_url": col("Source URL", kind=URL),
        "target": col("Target URL"),
    }
    optional = {
        "anchor": col("Anchor Text", "AnchorText"),
        "last_seen": col("Source Crawl Date", "Last Seen", "LastSeen"),
        "first_seen": col("Source First Found Date", "First Indexed", "FirstIndexedDate"),
        "nofollow": col("FlagNoFollow", kind=FLAG),
        "lost": col("FlagDeleted", "Date Lost", "DateLost", kind=FLAG),
        "authority": col("SourceTrustFlow", "Source Trust Flow", kind=AUTHORITY),
        "title": col("SourceTitle", "Source Title"),
        "language": col("SourceLanguage", "Source Language"),
    }
    signature = ("flagnofollow", "sourcetrustflow", "sourcecitationflow", "flagimagelink")
    link = LinkRule(
        domain="page_url",
        authority="authority",
        rel="CASE WHEN nofollow THEN 1 ELSE 0 END",
        lost="lost",
        language="language",
        score="authority",
        target="target",
        page="page_url",
    )


FORMATS: tuple[ExportFormat, ...] = (MajesticBacklinks(),)
