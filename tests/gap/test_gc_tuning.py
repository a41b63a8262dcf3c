"""Imports pause the cyclic collector or make it run less often, and give the setting back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from crm.gap.gc_tuning import (
    IMPORT_THRESHOLD,
    cyclic_collection_paused,
    fewer_cyclic_collections,
)


@pytest.fixture(autouse=True)
def _default_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_inside_and_restored_after() -> None:
    with fewer_cyclic_collections():
        assert gc.get_threshold() == (IMPORT_THRESHOLD, 10, 10)
        assert gc.isenabled()
    assert gc.get_threshold() == (700, 10, 10)


def test_it_is_restored_when_the_import_fails() -> None:
    with pytest.raises(RuntimeError), fewer_cyclic_collections():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_imports_share_it_and_the_last_to_end_restores_it() -> None:
    first, second = ExitStack(), ExitStack()
    first.enter_context(fewer_cyclic_collections())
    second.enter_context(fewer_cyclic_collections())
    first.close()  # the other import still runs
    assert gc.get_threshold()[0] == IMPORT_THRESHOLD
    second.close()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_someone_set_is_kept() -> None:
    gc.set_threshold(IMPORT_THRESHOLD * 2, 10, 10)
    with fewer_cyclic_collections():
        assert gc.get_threshold()[0] == IMPORT_THRESHOLD * 2
    assert gc.get_threshold()[0] == IMPORT_THRESHOLD * 2


def test_the_command_pauses_the_collector_and_gives_it_back_even_on_failure() -> None:
    with cyclic_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_collection_paused():
        raise RuntimeError("the import failed")
    assert gc.isenabled()
