from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crm.gap.exports import NOFOLLOW, REL_UNKNOWN, UGC, ExportError, inspect_export, read_links
from tests.gap.writers import (
    SAMPLES,
    ahrefs_bytes,
    ahrefs_row,
    csv_text,
    semrush_row,
    write_ahrefs,
    write_semrush,
    write_zip,
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


def test_gsc_top_linking_sites_with_thousands_separators(tmp_path: Path) -> None:
    path = sample(tmp_path, "gsc-top-linking-sites.sample.csv")
    info = inspect_export(path, owner="https://www.our-site.com/")
    assert info.format_id == "gsc-top-linking-sites"
    assert (info.owners, info.owner_source) == (("our-site.com",), "explicit")
    rows = [(link.domain, link.backlinks) for link in read_links(info)]
    assert rows == [("example.com", 12), ("example.com", 1240)]  # both hosts fold to example.com


@pytest.mark.parametrize(
    "header",
    [
        ("Website", "Verweisende Seiten", "Zielseiten"),
        ("Site", "Pages de liens", "Pages cibles"),
        ("Sitio", "Páginas que enlazan", "Páginas de destino"),
        ("Sito", "Pagine che rimandano", "Pagine di destinazione"),
        ("Site", "Páginas com links", "Páginas de destino"),
        ("Site", "Linkende pagina's", "Doelpagina's"),
    ],
)
def test_gsc_headers_in_other_languages(tmp_path: Path, header: tuple[str, str, str]) -> None:
    path = tmp_path / "links.csv"
    path.write_text(csv_text(header, [("blog.example.de", "1.240", "3")]), encoding="utf-8")
    info = inspect_export(path, owner="our-site.com")
    assert info.format_id == "gsc-top-linking-sites"
    assert [(link.domain, link.backlinks) for link in read_links(info)] == [("example.de", 1240)]


def test_gsc_zip_is_searched_for_the_top_linking_sites_csv(tmp_path: Path) -> None:
    gsc = (SAMPLES / "gsc-top-linking-sites.sample.csv").read_bytes()
    path = write_zip(
        tmp_path / "https___www.our-site.com_-Links-2026-11-02.zip",
        {
            "Top linked pages.csv": b"Target page,Incoming links,Linking sites\nhttps://x/,1,1\n",
            "Top linking sites.csv": gsc,
        },
    )
    info = inspect_export(path)
    assert info.member == "Top linking sites.csv" and info.owners == ("our-site.com",)
    assert info.display_name.endswith("› Top linking sites.csv")
    assert sum(link.backlinks for link in read_links(info)) == 1252


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


def test_crlf_and_utf8_bom_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    text = csv_text(
        ("Page ascore", "Source url", "Target url"), [("5", "https://a.com/", "https://rival.com/")]
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    info = inspect_export(path)
    assert info.encoding == "UTF-8 (BOM)" and info.format_id == "semrush-backlinks"
    assert [link.domain for link in read_links(info)] == ["a.com"]


def test_utf16_without_a_bom_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "nobom.csv"
    text = csv_text(
        ("Page ascore", "Source url", "Target url"), [("5", "https://a.com/", "https://rival.com/")]
    )
    path.write_bytes(text.encode("utf-16-le"))
    assert [link.domain for link in read_links(inspect_export(path))] == ["a.com"]


def test_header_only_export_has_no_links(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "rival.com-backlinks.csv", [])
    info = inspect_export(path)
    assert info.owners == ("rival.com",) and list(read_links(info)) == []


def test_explicit_owner_wins_over_target_url(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    info = inspect_export(path, owner="other.com")
    assert info.owners == ("other.com",) and info.owner_source == "explicit"


def test_format_hint_must_be_known(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    with pytest.raises(ExportError, match=r"unknown format 'nope'"):
        inspect_export(path, format_id="nope")
    assert inspect_export(path, format_id="semrush-backlinks").format_id == "semrush-backlinks"


def test_rows_estimate_is_exact_for_a_small_file(tmp_path: Path) -> None:
    rows = [semrush_row(f"https://a{i}.com/", "https://rival.com/") for i in range(7)]
    assert inspect_export(write_semrush(tmp_path / "s.csv", rows)).rows_estimate == 7
