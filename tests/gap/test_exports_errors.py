"""Bad input: every problem is one ExportError naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.gap.exports import ExportError, inspect_export, read_links
from tests.gap.writers import (
    SEMRUSH_HEADER,
    ahrefs_row,
    csv_text,
    semrush_row,
    write_ahrefs,
    write_semrush,
    write_zip,
)


def read_all(path: Path, **kwargs: object) -> list[object]:
    return list(read_links(inspect_export(path, **kwargs)))  # type: ignore[arg-type]


def test_error_message_is_one_line_with_file_line_and_column() -> None:
    exc = ExportError("rival-a.csv", 12, "Domain rating", 'expected a number, got "—"')
    assert str(exc) == 'rival-a.csv, line 12, column "Domain rating": expected a number, got "—"'
    assert str(ExportError("x.csv", None, None, "the file is empty")) == "x.csv: the file is empty"


@pytest.mark.parametrize("bad", ["—", "1,240", "n/a", "150", "-3", "nan"])
def test_a_bad_authority_names_line_and_column(tmp_path: Path, bad: str) -> None:
    path = write_ahrefs(
        tmp_path / "rival-a.csv",
        [
            ahrefs_row("https://ok.com/", "https://rival-a.com/"),
            ahrefs_row("https://bad.com/", "https://rival-a.com/", dr=bad),
        ],
    )
    with pytest.raises(ExportError) as caught:
        read_all(path)
    err = caught.value
    assert (err.file, err.line, err.column) == ("rival-a.csv", 3, "Domain rating")
    assert f'"{bad}"' in err.message


def test_a_count_with_a_thousands_separator_is_refused_where_not_allowed(tmp_path: Path) -> None:
    path = tmp_path / "rival.com-refdomains-subdomains_2026-01-01.csv"
    path.write_text(
        csv_text(
            ("Domain", "DR", "Links to target", "Dofollow links"), [("a.com", "10", "1,240", "3")]
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        ExportError,
        match=r'line 2, column "Links to target": expected a whole '
        'number without separators, got "1,240"',
    ):
        read_all(path)


def test_a_bad_boolean_names_its_column(tmp_path: Path) -> None:
    path = write_ahrefs(
        tmp_path / "a.csv", [ahrefs_row("https://ok.com/", "https://rival.com/", nofollow="maybe")]
    )
    with pytest.raises(ExportError, match=r'line 2, column "Nofollow": expected true/false'):
        read_all(path)


def test_a_bad_referring_url_names_its_column(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "s.csv",
        [
            semrush_row("https://ok.com/", "https://rival.com/"),
            semrush_row("not a url at all", "https://rival.com/"),
        ],
    )
    with pytest.raises(ExportError, match=r'line 3, column "Source url": expected a domain or URL'):
        read_all(path)


def test_wrong_encoding_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    text = csv_text(
        SEMRUSH_HEADER,
        [
            semrush_row("https://a.com/", "https://rival.com/"),
            semrush_row("https://b.com/", "https://rival.com/", title="Caf\u00e9 cr\u00e8me"),
        ],
    )
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(ExportError) as caught:
        read_all(path)
    assert caught.value.line == 3 and "not valid UTF-8" in caught.value.message


def test_a_utf16_file_cut_in_the_middle_of_a_character_is_truncated(tmp_path: Path) -> None:
    path = write_ahrefs(tmp_path / "a.csv", [ahrefs_row("https://a.com/", "https://rival.com/")])
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ExportError, match=r"truncated"):
        read_all(path)


def test_a_truncated_file_inside_a_quoted_field(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "s.csv",
        [
            semrush_row("https://a.com/", "https://rival.com/"),
            semrush_row("https://b.com/", "https://rival.com/", title="cut, here"),
        ],
    )
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"cut") + 3])
    with pytest.raises(ExportError, match=r"line 3: the file ends inside a quoted field"):
        read_all(path)


def test_a_row_with_too_few_fields_is_a_broken_row(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    with path.open("a", encoding="utf-8") as out:
        out.write("40,Title,https://b.com/\n")
    with pytest.raises(ExportError, match=r"line 3: expected 19 fields, found 3"):
        read_all(path)


def test_text_after_a_closing_quote_is_a_broken_row(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    with path.open("a", encoding="utf-8") as out:
        out.write('40,"Title"oops,https://b.com/,https://rival.com/' + ",x" * 15 + "\n")
    with pytest.raises(ExportError, match=r"line 3: broken CSV row"):
        read_all(path)


def test_a_never_closed_quote_in_a_fully_quoted_file(tmp_path: Path) -> None:
    path = write_ahrefs(
        tmp_path / "a.csv", [ahrefs_row(f"https://a{i}.com/", "https://r.com/") for i in range(300)]
    )
    text = path.read_bytes()[2:].decode("utf-16-le").split("\n")
    text[5] = text[5].replace('"\t"', '\t"', 1)  # a closing quote goes missing
    path.write_bytes(b"\xff\xfe" + "\n".join(text).encode("utf-16-le"))
    with pytest.raises(ExportError) as caught:
        read_all(path)
    assert caught.value.line == 6


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


def test_a_file_changed_after_inspection(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    info = inspect_export(path)
    path.write_text("Something,Else\n1,2\n")
    with pytest.raises(ExportError, match=r"changed since it was inspected"):
        list(read_links(info))
