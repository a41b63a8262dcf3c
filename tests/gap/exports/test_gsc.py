"""Search Console Top linking sites: translated headers, grouped counts, the ZIP."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crm.gap.exports import inspect_export, read_links
from tests.gap.writers import (
    SAMPLES,
    csv_text,
    write_zip,
)


def sample(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    return Path(shutil.copy(SAMPLES / name, tmp_path / (as_name or name)))


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
