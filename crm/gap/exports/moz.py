"""Moz Link Explorer · Linking Domains (current, and legacy Open Site Explorer).

Legacy files start with a few preamble lines before the header and write
booleans as Yes/No. The spam score is a percentage in current files (spam
when 61% or more, Moz's "high" band) and a count of 17 flags in legacy ones
(spam when 8 or more).
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.gap.exports.base import Cells, DomainFolder, ExportFormat, RawLink, col, domain_cell
from crm.gap.exports.model import NOFOLLOW, REL_UNKNOWN, ExportInfo
from crm.gap.exports.values import parse_authority, parse_bool, parse_count, parse_percent

SPAM_PERCENT = 61.0
SPAM_LEGACY_FLAGS = 8


def parse_followed(text: str) -> bool | None:
    """Read a followed cell: Yes/No, or a count of followed links."""
    try:
        return parse_bool(text)
    except ValueError:
        pass
    try:
        count = parse_count(text)
    except ValueError:
        raise ValueError(f'expected Yes/No or a number, got "{text.strip()[:40]}"') from None
    return None if count is None else count > 0


class MozLinkingDomains(ExportFormat):
    id = "moz-linking-domains"
    label = "Moz Linking Domains"
    required = {
        "domain": col("Root Domain", "Linking Root Domain", "Linking Domain", "Root domain"),
        "authority": col("Domain Authority", "DA", kind="authority"),
    }
    optional = {
        "spam": col("Spam Score", kind="percent"),
        "backlinks": col(
            "Links to Target",
            "Linking Pages",
            "Links",
            "Number of Links",
            "Links to Target Page",
            "Total Links",
            kind="count",
        ),
        "followed": col("Followed", "Follow", "Dofollow", "Followed Links", "Followed?"),
        "first_seen": col("First Seen", "Date First Seen"),
        "last_seen": col("Last Seen", "Date Last Seen"),
        "lost": col("Lost", "Date Lost", "Link State"),
    }

    def convert(self, info: ExportInfo, cells: Cells, folder: DomainFolder) -> Iterable[RawLink]:
        legacy = info.header_line > 1
        spam_score = cells.get("spam", parse_percent)
        spam = None
        if spam_score is not None:
            spam = spam_score >= (SPAM_LEGACY_FLAGS if legacy else SPAM_PERCENT)
        followed = cells.get("followed", parse_followed)
        rel = REL_UNKNOWN if followed is None else (0 if followed else NOFOLLOW)
        backlinks = cells.get("backlinks", parse_count)
        lost_cell = cells.raw("lost").casefold()
        lost = bool(lost_cell) and lost_cell not in ("active", "live", "no", "false")
        return (
            (
                cells.get("domain", domain_cell(folder)),
                info.owners[0],
                backlinks if backlinks is not None else 1,
                cells.get("authority", parse_authority),
                None,
                rel,
                spam,
                lost,
                "",
                0.0,
                "",
                None,
            ),
        )


FORMATS: tuple[ExportFormat, ...] = (MozLinkingDomains(),)
