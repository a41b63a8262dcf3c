"""Majestic Backlinks: flags, and broken rows skipped and counted."""

from __future__ import annotations

from pathlib import Path

from crm.gap.exports import NOFOLLOW, inspect_export, read_links


def test_majestic_skips_and_counts_broken_rows(tmp_path: Path) -> None:
    header = (
        "Target URL,Source URL,Anchor Text,Source Crawl Date,Source First Found Date,"
        "FlagNoFollow,FlagImageLink,FlagRedirect,FlagFrame,FlagOldCrawl,FlagAltText,"
        "FlagMention,SourceCitationFlow,SourceTrustFlow,TargetCitationFlow,TargetTrustFlow"
    )
    rows = [
        "https://rival.com/,https://a.com/p,Rival,2026-01-01,2025-01-01,,,,,,,,20,15,30,30",
        'https://rival.com/x,https://b.org/q,"broken "quote,2026-01-01,2025-01-01,+,,,,,,,1,2,3,4',
        "https://rival.com/y,https://c.net/z,too,few",
        "https://rival.com/z,https://d.io/,Rival,2026-01-01,2025-01-01,+,,,,,,,10,5,30,30",
    ]
    path = tmp_path / "majestic.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    from crm.gap.exports import ReadStats

    info = inspect_export(path)
    assert info.format_id == "majestic-backlinks" and info.owners == ("rival.com",)
    stats = ReadStats()
    links = list(read_links(info, stats))
    assert [(link.domain, link.rel, link.authority) for link in links] == [
        ("a.com", 0, 15.0),
        ("d.io", NOFOLLOW, 5.0),
    ]
    assert stats.skipped == 2 and stats.skipped_lines == [3, 4]
