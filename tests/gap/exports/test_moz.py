"""Moz Linking Domains, current and legacy Open Site Explorer."""

from __future__ import annotations

from pathlib import Path

from crm.gap.exports import NOFOLLOW, inspect_export, read_links
from tests.gap.writers import (
    csv_text,
)


def test_current_moz_linking_domains(tmp_path: Path) -> None:
    path = tmp_path / "rival.com-linking-domains.csv"
    path.write_text(
        csv_text(
            ("Root Domain", "Domain Authority", "Spam Score", "Links to Target", "Followed"),
            [("news.example.com", "71", "1%", "4", "Yes"), ("spammy.biz", "5", "75%", "1", "No")],
        ),
        encoding="utf-8",
    )
    info = inspect_export(path)
    assert info.format_id == "moz-linking-domains" and info.owners == ("rival.com",)
    links = {link.domain: link for link in read_links(info)}
    assert (links["example.com"].backlinks, links["example.com"].rel) == (4, 0)
    assert links["example.com"].spam is False and links["spammy.biz"].spam is True
    assert links["spammy.biz"].rel == NOFOLLOW


def test_legacy_moz_file_with_six_preamble_lines(tmp_path: Path) -> None:
    preamble = (
        "Linking Domains to: rival.com\nCreated: 2014-03-01\nFilters: all\n"
        "Open Site Explorer\n\nSome note line\n"
    )
    body = csv_text(
        ("Root Domain", "Domain Authority", "Spam Score", "Followed"),
        [("a.example.org", "40", "9", "Yes"), ("b.net", "30", "2", "No")],
    )
    path = tmp_path / "ose.csv"
    path.write_text(preamble + body, encoding="utf-8")
    info = inspect_export(path)
    assert info.format_id == "moz-linking-domains" and "legacy" in info.label
    assert info.header_line == 7 and info.owners == ("rival.com",)
    links = {link.domain: link for link in read_links(info)}
    assert links["example.org"].spam is True and links["b.net"].spam is False
    assert links["b.net"].rel == NOFOLLOW
