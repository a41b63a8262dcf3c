"""The careful reader names the file, line and column of every bad cell or broken row."""

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
)


def read_all(path: Path, **kwargs: object) -> list[object]:
    return list(read_links(inspect_export(path, **kwargs)))  # type: ignore[arg-type]


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


def test_a_file_changed_after_inspection(tmp_path: Path) -> None:
    path = write_semrush(tmp_path / "s.csv", [semrush_row("https://a.com/", "https://rival.com/")])
    info = inspect_export(path)
    path.write_text("Something,Else\n1,2\n")
    with pytest.raises(ExportError, match=r"changed since it was inspected"):
        list(read_links(info))
