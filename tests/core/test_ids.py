"""Ids read from outside input: anything that cannot name a row is None, never an error."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.ids import MAX_ID, parse_id


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "0", "-3", " ", "1.5", "²", "١", str(2**63), str(10**30), "9" * 5000,
     "0" * 5000, None, True, 0],
)  # fmt: skip
def test_a_value_that_cannot_name_a_row_is_none(raw: Any) -> None:
    assert parse_id(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7", 7), (" 42 ", 42), ("0" * 5000 + "7", 7), (str(MAX_ID), MAX_ID), (3, 3)],
)
def test_an_id_is_read_from_its_digits(raw: Any, expected: int) -> None:
    assert parse_id(raw) == expected
