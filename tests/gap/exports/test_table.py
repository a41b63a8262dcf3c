"""Whatever the bytes, loading an export raises nothing but ExportError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crm.gap.exports import ExportError, inspect_export, read_links
from tests.gap.exports.tricky import FUZZ, file_with
from tests.gap.writers import SAMPLES

SEEDS = [p.read_bytes() for p in sorted(SAMPLES.glob("*.csv"))]
NAME = "rival.com-backlinks_refdomains.csv"


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
    with file_with(prefix + data, NAME) as path:
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
    with file_with(bytes(data), NAME) as path:
        read_everything(path, owner="rival.com")
