"""Semrush Backlinks (current and older), Referring Domains and Backlink Gap, as written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crm.gap.exports import NOFOLLOW, REL_UNKNOWN, UGC, inspect_export, read_links
from tests.gap.writers import (
    SAMPLES,
    csv_text,
    semrush_row,
    write_semrush,
)


def sample(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    return Path(shutil.copy(SAMPLES / name, tmp_path / (as_name or name)))


def test_semrush_backlinks_sample_is_read(tmp_path: Path) -> None:
    info = inspect_export(sample(tmp_path, "semrush-backlinks.sample.csv"))
    assert (info.format_id, info.encoding, info.delimiter) == ("semrush-backlinks", "UTF-8", ",")
    wiki = next(link for link in read_links(info) if link.domain == "example.org")
    assert wiki.rel == NOFOLLOW and wiki.authority == 45.0
    assert wiki.evidence and wiki.evidence.title == "Kremer, M. - Wiki"
    assert wiki.evidence.anchor == '"Sample"'


def test_older_semrush_backlinks_are_recognised(tmp_path: Path) -> None:
    header = (
        "Page score",
        "Page trust score",
        "Source title",
        "Source url",
        "Target url",
        "Anchor",
        "External links",
        "Internal links",
        "Nofollow",
        "Text",
        "Frame",
        "Form",
        "Image",
        "Sitewide",
        "First seen",
        "Last seen",
        "New link",
        "Lost link",
    )
    row = (
        "12",
        "3",
        "T",
        "https://a.org/p",
        "https://rival.com/",
        "x",
        "1",
        "2",
        "true",
        "true",
        "false",
        "false",
        "false",
        "false",
        "2024-01-01",
        "2024-02-01",
        "false",
        "false",
    )
    path = tmp_path / "old-semrush.csv"
    path.write_text(csv_text(header, [row]), encoding="utf-8")
    info = inspect_export(path)
    assert info.format_id == "semrush-backlinks" and "older" in info.label
    (link,) = read_links(info)
    assert (link.domain, link.authority, link.rel) == ("a.org", 12.0, NOFOLLOW)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_semrush_refdomains_with_comma_or_semicolon(tmp_path: Path, delimiter: str) -> None:
    text = (SAMPLES / "semrush-refdomains.sample.csv").read_text()
    path = tmp_path / "rival.co.uk-backlinks_refdomains.csv"
    path.write_text(text.replace(",", delimiter), encoding="utf-8")
    info = inspect_export(path)
    assert (info.format_id, info.delimiter, info.owners) == (
        "semrush-refdomains",
        delimiter,
        ("rival.co.uk",),
    )
    links = {link.domain: link for link in read_links(info)}
    assert links["visitexample.com"].backlinks == 253 and links["example.es"].authority == 2.0


def test_semrush_backlink_gap_reads_one_count_per_site_column(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text(
        csv_text(
            ("Domain", "Authority Score", "our-site.com", "rival-a.com", "rival-b.com", "Matches"),
            [("blog.one.com", "40", "", "3", "1", "2"), ("two.org", "20", "5", "0", "2", "2")],
        ),
        encoding="utf-8",
    )
    info = inspect_export(path)
    assert info.format_id == "semrush-gap" and info.owner_source == "columns"
    assert info.owners == ("our-site.com", "rival-a.com", "rival-b.com")
    got = sorted((link.domain, link.site, link.backlinks) for link in read_links(info))
    assert got == [
        ("one.com", "rival-a.com", 3),
        ("one.com", "rival-b.com", 1),
        ("two.org", "our-site.com", 5),
        ("two.org", "rival-b.com", 2),
    ]


def test_ugc_and_sponsored_bits_are_kept(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "s.csv",
        [
            semrush_row("https://a.com/", "https://rival.com/", ugc="true"),
            semrush_row("https://b.com/", "https://rival.com/", sponsored="true", nofollow="true"),
        ],
    )
    rels = [link.rel for link in read_links(inspect_export(path))]
    assert rels == [UGC, NOFOLLOW | 4]


def test_files_without_rel_columns_say_rel_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "rival.com-backlinks_refdomains.csv"
    path.write_text("Domain ascore,Domain,Backlinks\n10,a.com,2\n", encoding="utf-8")
    info = inspect_export(path)
    assert [link.rel for link in read_links(info)] == [REL_UNKNOWN]
