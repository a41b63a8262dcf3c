"""Moz Link Explorer · Linking Domains (current, and legacy Open Site Explorer).

Legacy files start with a few preamble lines before the header and write
booleans as Yes/No. The spam score is a percentage in current files (spam
when 61% or more, Moz's "high" band) and a count of 17 flags in legacy ones
(spam when 8 or more).
"""

from __future__ import annotations

from crm.gap.exports.cells import AUTHORITY, COUNT_KIND, FOLLOWED, PERCENT, URL
from crm.gap.exports.formats import ExportFormat, LinkRule, col, rel_of_followed
from crm.gap.exports.model import ExportInfo

SPAM_PERCENT = 61.0
SPAM_LEGACY_FLAGS = 8


class MozLinkingDomains(ExportFormat):
    id = "moz-linking-domains"
    label = "Moz Linking Domains"
    required = {
        "domain": col(
            "Root Domain", "Linking Root Domain", "Linking Domain", "Root domain", kind=URL
        ),
        "authority": col("Domain Authority", "DA", kind=AUTHORITY),
    }
    optional = {
        "spam": col("Spam Score", kind=PERCENT),
        "backlinks": col(
            "Links to Target",
            "Linking Pages",
            "Links",
            "Number of Links",
            "Links to Target Page",
            "Total Links",
            kind=COUNT_KIND,
        ),
        "followed": col(
            "Followed", "Follow", "Dofollow", "Followed Links", "Followed?", kind=FOLLOWED
        ),
        "first_seen": col("First Seen", "Date First Seen"),
        "last_seen": col("Last Seen", "Date Last Seen"),
        "lost": col("Lost", "Date Lost", "Link State"),
    }

    def link_rule(self, info: ExportInfo) -> LinkRule:
        legacy = info.header_line > 1  # Open Site Explorer files start with a preamble
        threshold = SPAM_LEGACY_FLAGS if legacy else SPAM_PERCENT
        return LinkRule(
            domain="domain",
            backlinks="coalesce(backlinks, 1)",
            authority="authority",
            rel=rel_of_followed("followed"),
            spam=f"spam >= {threshold}",
            lost="lower(lost) NOT IN ('', 'active', 'live', 'no', 'false')",
        )


FORMATS: tuple[ExportFormat, ...] = (MozLinkingDomains(),)
