"""Fuzz the parsers: whatever the bytes, nothing but ExportError escapes.

Also checks that the fast loops of the big formats read every row exactly
as the careful column-by-column reader does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.gap.exports import FORMAT_BY_ID, ExportError, inspect_export, iter_raw_links, read_links
from tests.gap.writers import (
    AHREFS_HEADER,
    SAMPLES,
    SEMRUSH_HEADER,
    ahrefs_bytes,
    csv_text,
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [p.read_bytes() for p in sorted(SAMPLES.glob("*.csv"))]


@contextmanager
def file_with(data: bytes, name: str = "rival.com-backlinks_refdomains.csv") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def read_everything(path: Path, **kwargs: object) -> None:
    try:
        info = inspect_export(path, **kwargs)  # type: ignore[arg-type]
        for link in read_links(info):
            if link.evidence is not None:
                assert link.evidence.page_url is not None
    except ExportError as exc:
        assert str(exc).startswith(exc.file)


@FUZZ
@given(
    st.binary(max_size=400),
    st.sampled_from([b"", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"PK\x03\x04"]),
)
def test_random_bytes_raise_only_export_error(data: bytes, prefix: bytes) -> None:
    with file_with(prefix + data) as path:
        read_everything(path)


@FUZZ
@given(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=6)), min_size=1, max_size=6),
)
def test_mutated_real_exports_raise_only_export_error(
    seed: int, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(SEEDS[seed])
    for at, insert in edits:
        at %= len(data) + 1
        data[at : at + len(insert) // 2] = insert
    with file_with(bytes(data)) as path:
        read_everything(path, owner="rival.com")


_cell = st.one_of(
    st.sampled_from(
        [
            "",
            "true",
            "false",
            "TRUE",
            "Yes",
            "0",
            "1",
            "58",
            "4.7",
            "-1",
            "1,240",
            "—",
            "nan",
            "1e3",
            "https://www.a.com/x",
            "http://[::1]/",
            "a b",
            "xn--bcher-kva.de",
            '"',
            '""',
            "\t",
            "\n",
            "x\r\ny",
            "2026-01-02 03:04:05",
        ]
    ),
    st.text(max_size=12),
)


@FUZZ
@given(st.lists(st.lists(_cell, min_size=37, max_size=37), min_size=1, max_size=6))
def test_ahrefs_fast_loop_agrees_with_the_careful_reader(rows: list[list[str]]) -> None:
    for row in rows:
        row[1] = row[1] or "https://x.com/"
        row[13] = "https://rival.com/page"
    data = ahrefs_bytes(csv_text(AHREFS_HEADER, rows, delimiter="\t", quote_all=True))
    with file_with(data, "a.csv") as path:
        _compare(path, "ahrefs-backlinks")


_AHREFS_VALID = {
    1: st.sampled_from(["https://www.a.com/x", "http://B.org:81/", "https://bücher.de/p", "a.net"]),
    4: st.sampled_from(["200", "404", ""]),
    5: st.sampled_from(["", "0", "58", "4.7", "100", " 7 "]),
    6: st.sampled_from(["", "3", "4.5"]),
    7: st.sampled_from(["", "0", "12", "3.0"]),
    20: st.sampled_from(["true", "false", "", "TRUE"]),
    22: st.sampled_from(["true", "false", "", "No"]),
    23: st.sampled_from(["true", "false"]),
    24: st.sampled_from(["true", "false", ""]),
    27: st.sampled_from(["", "removed"]),
    32: st.sampled_from(["", "2026-01-01 00:00:00"]),
}


@FUZZ
@given(st.lists(st.fixed_dictionaries(_AHREFS_VALID), min_size=1, max_size=8))
def test_ahrefs_fast_loop_agrees_on_mostly_valid_rows(rows: list[dict[int, str]]) -> None:
    full = []
    for values in rows:
        row = ["x"] * 37
        row[13] = "https://rival.com/page"
        for index, value in values.items():
            row[index] = value
        full.append(row)
    data = ahrefs_bytes(csv_text(AHREFS_HEADER, full, delimiter="\t", quote_all=True))
    with file_with(data, "a.csv") as path:
        _compare(path, "ahrefs-backlinks")


@FUZZ
@given(st.lists(st.lists(_cell, min_size=19, max_size=19), min_size=1, max_size=6))
def test_semrush_fast_loop_agrees_with_the_careful_reader(rows: list[list[str]]) -> None:
    for row in rows:
        row[3] = "https://rival.com/page"
    with file_with(csv_text(SEMRUSH_HEADER, rows).encode(), "s.csv") as path:
        _compare(path, "semrush-backlinks")


def _compare(path: Path, format_id: str) -> None:
    try:
        info = inspect_export(path, owner="rival.com", format_id=format_id)
    except ExportError:
        return
    fmt = FORMAT_BY_ID[format_id]
    fast: list[object] | ExportError
    careful: list[object] | ExportError
    try:
        fast = list(iter_raw_links(info))
    except ExportError as exc:
        fast = exc
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(fmt), "links", type(fmt).careful_links)
        try:
            careful = list(iter_raw_links(info))
        except ExportError as exc:
            careful = exc
    if isinstance(fast, ExportError) or isinstance(careful, ExportError):
        assert str(fast) == str(careful)
    else:
        assert fast == careful
