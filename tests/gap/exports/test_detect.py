"""What inspecting an export finds out: encoding, header, owner, format, rows; or why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.gap.exports import ExportError, inspect_export, read_links
from tests.gap.writers import csv_text, semrush_row, write_semrush, write_zip


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


def test_missing_required_column_says_which_and_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("Page ascore,Source title,Source url,Anchor\n1,t,https://a.com/,x\n")
    with pytest.raises(ExportError) as caught:
        inspect_export(path)
    message = caught.value.message
    assert caught.value.line == 1
    assert 'required column(s) "Target url" are missing' in message
    assert '"Page ascore", "Source title", "Source url", "Anchor"' in message


def test_an_unknown_header_asks_for_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("When,What\n2026-01-01,call\n")
    with pytest.raises(ExportError, match=r"not an export Linkgap knows.*map its columns"):
        inspect_export(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xff\xfe", b"\xef\xbb\xbf"])
def test_an_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=r"empty.csv: the file is empty"):
        inspect_export(path)


def test_a_zip_without_a_csv(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "links.zip", {"readme.txt.md": b"hi", "chart.png": b"\x89PNG"})
    with pytest.raises(ExportError, match=r"links.zip: the ZIP holds no CSV file .*chart.png"):
        inspect_export(path)


def test_a_broken_zip(tmp_path: Path) -> None:
    path = tmp_path / "links.zip"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ExportError, match=r"broken ZIP"):
        inspect_export(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cannot read the file"):
        inspect_export(tmp_path / "nope.csv")


def test_an_export_whose_owner_cannot_be_told(tmp_path: Path) -> None:
    path = tmp_path / "refdomains.csv"
    path.write_text("Domain ascore,Domain,Backlinks\n10,a.com,2\n")
    with pytest.raises(ExportError, match=r"cannot tell whose export this is.*DOMAIN=PATH"):
        inspect_export(path)


def test_an_explicit_owner_that_is_not_a_domain(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    with pytest.raises(ExportError, match=r"owner domain 'not a domain' is not a domain"):
        inspect_export(path, owner="not a domain")
