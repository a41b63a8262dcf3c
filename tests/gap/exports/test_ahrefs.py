"""Ahrefs Backlinks (current and older), Referring domains and Link Intersect, as written."""

from __future__ import annotations

import shutil
from pathlib import Path

from crm.gap.exports import NOFOLLOW, inspect_export, read_links
from tests.gap.writers import (
    SAMPLES,
    ahrefs_bytes,
    ahrefs_row,
    csv_text,
    write_ahrefs,
)


def sample(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    return Path(shutil.copy(SAMPLES / name, tmp_path / (as_name or name)))


def test_ahrefs_backlinks_sample_is_read_with_rel_spam_lost_and_evidence(tmp_path: Path) -> None:
    info = inspect_export(sample(tmp_path, "ahrefs-backlinks.sample.csv"))
    assert (info.format_id, info.encoding, info.delimiter) == ("ahrefs-backlinks", "UTF-16LE", "\t")
    assert info.owners == ("sample-site.example",) and info.owner_source == "target-url"
    links = list(read_links(info))
    assert [link.domain for link in links] == [
        "toolreview.example",
        "example.net",
        "example.online",
    ]
    first, forum, lost = links
    assert (first.authority, first.traffic, first.rel, first.spam) == (58.0, 40210, 0, False)
    assert first.evidence is not None and first.evidence.title == "Best kanban tools in 2026"
    assert first.evidence.first_seen == "2025-10-27" and first.evidence.http_code == 200
    assert first.evidence.page_type == "Article > Listicle"
    assert forum.rel == NOFOLLOW and forum.evidence and forum.evidence.rel == "nofollow"
    assert forum.authority == 26.0 and forum.language == "es"
    assert lost.lost and lost.spam and lost.authority == 0.9
    assert lost.evidence and lost.evidence.lost == "tooold"


def test_older_30_column_ahrefs_backlinks_are_recognised(tmp_path: Path) -> None:
    path = write_ahrefs(
        tmp_path / "old.csv",
        [
            ahrefs_row("https://blog.a.com/x", "https://rival.com/p", older=True),
        ],
        older=True,
    )
    info = inspect_export(path)
    assert info.format_id == "ahrefs-backlinks" and "older" in info.label
    (link,) = read_links(info)
    assert (link.domain, link.site, link.spam) == ("a.com", "rival.com", None)


def test_ahrefs_refdomains_take_the_site_from_the_file_name(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "ahrefs-refdomains.sample.csv",
        "rival.com-refdomains-subdomains_2026-11-02_10-11-12.csv",
    )
    info = inspect_export(path)
    assert info.format_id == "ahrefs-refdomains"
    assert (info.owners, info.owner_source) == (("rival.com",), "file-name")
    links = {link.domain: link for link in read_links(info)}
    assert links["toolreview.example"].backlinks == 3 and links["toolreview.example"].rel == 0
    assert links["toolreview.example"].traffic == 66436  # "Traffic " with a trailing space
    assert links["example.xyz"].spam is True and links["example.xyz"].backlinks == 12
    assert links["example.org"].rel == NOFOLLOW and links["example.org"].lost


def test_ahrefs_link_intersect_treats_a_non_empty_site_cell_as_a_link(tmp_path: Path) -> None:
    header = (
        "Referring page title",
        "Referring page URL",
        "Language",
        "Platform",
        "Type",
        "Author",
        "Redirect Code",
        "Domain rating",
        "UR",
        "Domain traffic",
        "Referring domains",
        "Page traffic",
        "Intersect",
        "rival-a.com/",
        "rival-b.com/",
    )
    rows = [
        (
            "Best tools",
            "https://list.example.org/best",
            "en",
            "",
            "text",
            "",
            "",
            "61",
            "9",
            "900",
            "3",
            "4",
            "2",
            "https://rival-a.com/x",
            "✓",
        ),
        (
            "Forum",
            "https://forum.b.com/t/1",
            "en",
            "",
            "text",
            "",
            "",
            "30",
            "1",
            "10",
            "1",
            "1",
            "1",
            "",
            "yes",
        ),
    ]
    path = tmp_path / "intersect.csv"
    path.write_bytes(ahrefs_bytes(csv_text(header, rows, delimiter="\t", quote_all=True)))
    info = inspect_export(path)
    assert info.format_id == "ahrefs-intersect" and info.owners == ("rival-a.com", "rival-b.com")
    got = sorted((link.domain, link.site, link.authority) for link in read_links(info))
    assert got == [
        ("b.com", "rival-b.com", 30.0),
        ("example.org", "rival-a.com", 61.0),
        ("example.org", "rival-b.com", 61.0),
    ]


def test_quoted_fields_with_tabs_quotes_and_newlines_in_a_fully_quoted_file(tmp_path: Path) -> None:
    path = write_ahrefs(
        tmp_path / "q.csv",
        [
            ahrefs_row("https://a.com/1", "https://rival.com/", title='Say "hi"\tthere'),
            ahrefs_row("https://b.com/2", "https://rival.com/", title='two\nlines "" and "\t"'),
            ahrefs_row("https://c.com/3", "https://rival.com/", title="plain"),
        ],
    )
    links = list(read_links(inspect_export(path)))
    assert [link.evidence.title for link in links if link.evidence] == [
        'Say "hi"\tthere',
        'two\nlines "" and "\t"',
        "plain",
    ]
