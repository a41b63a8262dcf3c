"""Whose export each file of an import is, as the import (which knows the campaign) decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crm.gap.sample_exports import (
    SampleDomain,
    SampleLink,
    ahrefs_refdomains_bytes,
    semrush_backlinks_bytes,
    write,
)
from crm.gap.service import SourceFile, add_sources, create_import

pytestmark = pytest.mark.postgres

REFDOMAINS = ahrefs_refdomains_bytes([SampleDomain("blog.example.com", authority=40)])


def _added(campaign: Any, path: Path, name: str | None = None) -> dict[str, Any]:
    gap_import = create_import(campaign)
    add_sources(gap_import, [SourceFile(str(path), name or path.name)])
    return dict(gap_import.files[0])


@pytest.mark.parametrize(
    "name",
    [
        "v2-rd800000-rival-c.com-ahrefs-refdomains.csv",  # a valid host name leads it
        "2026-Q4 rival-c.com refdomains.csv",  # the site is not first
    ],
)
def test_a_file_named_after_a_campaign_site_anywhere_in_its_name_is_that_sites_export(
    db: Any, team: dict[str, Any], tmp_path: Path, name: str
) -> None:
    entry = _added(team["campaign"], write(tmp_path / name, REFDOMAINS))
    assert entry["error"] is None
    assert entry["detected"]["owners"] == ["rival-c.com"]
    assert entry["detected"]["owner_source"] == "file-name"


def test_a_file_naming_two_campaign_sites_still_asks_whose_export_it_is(
    db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path / "rival-a.com vs rival-c.com refdomains.csv", REFDOMAINS)
    entry = _added(team["campaign"], path)
    assert "its file name names no single site of the campaign" in entry["error"]


def test_a_foreign_target_url_column_is_refused_whatever_the_file_name_says(
    db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    data = semrush_backlinks_bytes(
        [SampleLink("https://x.example.org/a", "https://elsewhere.example.net/", authority=9)]
    )
    entry = _added(team["campaign"], write(tmp_path / "rival-a.com backlinks.csv", data))
    assert "this export is for example.net, which is neither" in entry["error"]


def test_an_owner_the_user_set_is_not_second_guessed_by_the_file_name(
    db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    gap_import = create_import(team["campaign"])
    path = write(tmp_path / "rival-c.com-refdomains.csv", REFDOMAINS)
    add_sources(gap_import, [SourceFile(str(path), path.name, owner="rival-a.com")])
    assert gap_import.files[0]["detected"]["owners"] == ["rival-a.com"]
    assert gap_import.files[0]["detected"]["owner_source"] == "explicit"
