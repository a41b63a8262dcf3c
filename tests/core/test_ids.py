"""Ids read from outside input: anything that cannot name a row is None, never an error."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.ids import MAX_ID, parse_id, parse_whole


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "0", "-3", " ", "1.5", "²", "١", str(2**31), str(2**63), str(10**30), "9" * 5000,
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


@pytest.mark.parametrize("raw", ["", "abc", "-3", "1.5", "²", "١", None, True, -1])
def test_a_value_that_is_no_whole_number_is_none(raw: Any) -> None:
    assert parse_whole(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), (" 12 ", 12), (str(10**30), MAX_ID), ("9" * 5000, MAX_ID), ("0" * 5000, 0)],
)
def test_a_whole_number_past_the_databases_reads_as_their_largest(raw: Any, expected: int) -> None:
    assert parse_whole(raw) == expected


def test_a_whole_number_is_held_to_its_maximum() -> None:
    assert parse_whole("5000", maximum=100) == 100


def test_a_larger_maximum_reads_long_numbers_exactly() -> None:
    assert parse_whole("100000000000", maximum=2**63) == 100_000_000_000
    assert parse_whole("9" * 5000, maximum=2**63) == 2**63
