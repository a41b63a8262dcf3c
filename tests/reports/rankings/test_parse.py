"""Reading ranking exports: Search Console ZIPs and CSVs in any language, rank tracker CSVs,
and every broken file named by file, line and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm.gap.exports.errors import ExportError
from crm.reports.rankings import parse
from crm.reports.rankings.parse import read_rank_file, url_key
from tests.reports.rankings.files import GSC_PAGES, GSC_PAGES_DE, TRACKER, gsc_zip, text_file

AS_OF = date(2026, 10, 31)


def test_search_console_zip_is_read_from_its_pages_table(tmp_path: Path) -> None:
    found = read_rank_file(gsc_zip(tmp_path), AS_OF)
    assert found.source == "gsc"
    assert found.name.endswith("› Pages.csv")
    first = found.observations[0]
    assert (first.url_key, first.clicks, first.impressions, first.position) == (
        "sample-site.example/kanban-guide", 1240, 48210, 8.4,
    )  # fmt: skip
    assert {o.observed_on for o in found.observations} == {AS_OF}


def test_german_headers_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    found = read_rank_file(text_file(tmp_path, "Seiten.csv", GSC_PAGES_DE), AS_OF)
    [row] = found.observations
    assert (row.clicks, row.impressions, row.position) == (1240, 48210, 7.9)


def test_rank_tracker_rows_keep_keyword_and_their_own_date(tmp_path: Path) -> None:
    found = read_rank_file(text_file(tmp_path, "tracker.csv", TRACKER), AS_OF)
    assert found.source == "tracker"
    assert [(o.keyword, o.position, o.observed_on) for o in found.observations] == [
        ("kanban board", 5.0, date(2026, 10, 1)),
        ("kanban template", 9.0, date(2026, 10, 1)),
        ("project tools", None, date(2026, 10, 1)),  # ">100": not ranked
    ]


def test_utf16_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pages.csv"
    path.write_bytes(b"\xff\xfe" + GSC_PAGES.encode("utf-16-le"))
    assert len(read_rank_file(path, AS_OF).observations) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Top pages,Clicks,Impressions,CTR,Position\nhttps://a.example/x,1,2,3%,abc\n",
         'p.csv, line 2, column "Position": expected a position, got "abc"'),
        ("Top pages,Clicks,Impressions,CTR,Position\nhttps://a.example/x,lots,2,3%,4\n",
         'p.csv, line 2, column "Clicks": expected a whole number, got "lots"'),
        ("Top pages,Clicks,Impressions,CTR,Position\nnot a url,1,2,3%,4\n",
         'p.csv, line 2, column "Top pages": expected a page URL, got "not a url"'),
        ("Page,Rank,Date\nhttps://a.example/x,3,someday\n",
         'p.csv, line 2, column "Date": expected a date, got "someday"'),
        ("Domain,Backlinks\nexample.com,3\n",
         'p.csv, line 1: no page or position column (found "Domain", "Backlinks")'),
        ("Top pages,Clicks,Impressions,CTR,Position\n", "p.csv: the table has no rows"),
        ("Top pages,Clicks,Impressions,CTR,Position\nhttps://a.example/x,1,2,3%,4\n"
         "https://a.example/\x00,1,2,3%,4\n",
         "p.csv, line 3: a NUL character (is this a binary file?)"),
    ],
)  # fmt: skip
def test_broken_files_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExportError) as caught:
        read_rank_file(text_file(tmp_path, "p.csv", text), AS_OF)
    assert str(caught.value) == message


def test_a_zip_without_a_pages_table_says_what_it_holds(tmp_path: Path) -> None:
    path = gsc_zip(tmp_path, pages="Device,Clicks\nMobile,3\n", name="Devices.csv")
    with pytest.raises(
        ExportError, match=r"no Pages table in the ZIP \(found Queries.csv, Devices.csv"
    ):
        read_rank_file(path, AS_OF)


def test_not_a_zip_and_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ExportError, match="broken ZIP file"):
        read_rank_file(path, AS_OF)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"Page,Position\n\xff\xfe\xfa\x00\x01")
    with pytest.raises(ExportError, match="line 2"):
        read_rank_file(binary, AS_OF)


def test_reading_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_ROWS", 2)
    with pytest.raises(ExportError, match="line 4: more than 2 rows"):
        read_rank_file(text_file(tmp_path, "p.csv", GSC_PAGES), AS_OF)
    monkeypatch.setattr(parse, "MAX_BYTES", 60)
    with pytest.raises(ExportError, match="more than 0 MiB of text"):
        read_rank_file(text_file(tmp_path, "q.csv", GSC_PAGES), AS_OF)
    huge = "Page,Position\nhttps://a.example/" + "x" * 9000 + ",3\n"
    monkeypatch.setattr(parse, "MAX_BYTES", 1 << 20)
    with pytest.raises(ExportError, match="too long"):
        read_rank_file(text_file(tmp_path, "h.csv", huge), AS_OF)


def test_url_key_folds_scheme_host_www_and_trailing_slash() -> None:
    assert url_key("https://www.Sample-Site.example/Guide/") == "sample-site.example/Guide"
    assert url_key("http://sample-site.example/guide?x=1#top") == "sample-site.example/guide?x=1"
    assert url_key("sample-site.example") == "sample-site.example/"
