"""Cells that tell a careless number or boolean reader from a careful one, for the fuzz tests."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Examples that each write and read a file: fewer.
FILES = settings(FUZZ, max_examples=60)
TRICKY = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400",
    "2.5e-324", "-0", "+0", "-0.0", "0x10", "1_000", "١٢", "５", "5.", ".5", "+5", "1e3", "1E+2",
    "100", "100.0", "100.0000000000001", "100.00000000000001", "-0.00000001", "4.7", "58",
    " 7 ", "\t7\t", "\u00a07", "7\u2003", "1,240", "1.240", "1 240", "—", "n/a", "2147483647",
    "2147483648", "9999999999", "99999999999", "007", "3.0", "3.00", "3.5", "-3", "true",
    "TRUE", "tRuE", "Yes", "nO", "y", "F", "ſalse", "İ", "K", "2", "on", "\x0b1\x0c", "a\x00b",
]  # fmt: skip
text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8)
cells = st.one_of(st.sampled_from(TRICKY), text)


def same(careful: object, duck: object) -> bool:
    """Tell whether two typed values are the same, -0.0 told from 0.0."""
    if isinstance(careful, float) and isinstance(duck, float):
        return careful == duck and math.copysign(1, careful) == math.copysign(1, duck)
    return careful == duck and type(careful) is type(duck)


@contextmanager
def file_with(data: bytes, name: str) -> Iterator[Path]:
    """A file holding these bytes, under this name, for the block."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path
