"""A generic CSV read through the user's column mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.gap.exports import NOFOLLOW, ExportError, inspect_export, read_links
from tests.gap.writers import (
    csv_text,
)


def test_generic_csv_with_a_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        csv_text(
            ("Linking URL", "Score", "Follow?", "Links", "Linked page"),
            [
                ("https://res.example.org/links", "33", "yes", "1,200", "https://rival.com/guide"),
                ("https://short.example.net/x", "", "no"),
            ],
        ),
        encoding="utf-8",
    )
    mapping = {
        "url": "Linking URL",
        "authority": "score",
        "dofollow": "Follow?",
        "backlinks": "Links",
        "target_url": "Linked page",
    }
    info = inspect_export(path, mapping=mapping)
    assert info.format_id == "generic" and info.owners == ("rival.com",)
    links = list(read_links(info))
    assert [(link.domain, link.backlinks, link.rel, link.authority) for link in links] == [
        ("example.org", 1200, 0, 33.0),
        ("example.net", 1, NOFOLLOW, None),
    ]
    assert links[0].evidence and links[0].evidence.target_url == "https://rival.com/guide"


def test_generic_mapping_naming_a_missing_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Domain,Notes\nexample.com,hi\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r'column "Site" \(mapped to domain\) is not in the file'):
        inspect_export(path, mapping={"domain": "Site"}, owner="rival.com")
