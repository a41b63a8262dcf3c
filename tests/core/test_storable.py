"""Text from outside loses its NUL characters, which PostgreSQL cannot store, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.core.storable import REPLACEMENT, storable


@dataclass(frozen=True)
class _Inner:
    note: str | None = None


@dataclass(frozen=True)
class _Facts:
    subject: str = ""
    to: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    inner: _Inner | None = None
    count: int = 0


def test_every_nul_is_replaced_through_lists_dicts_and_nested_dataclasses() -> None:
    facts = _Facts("a\x00b", ["x\x00@y.example"], {"subject": "\x00"}, _Inner("c\x00"), 3)
    clean = storable(facts)
    assert clean == _Facts(f"a{REPLACEMENT}b", [f"x{REPLACEMENT}@y.example"],
                           {"subject": REPLACEMENT}, _Inner(f"c{REPLACEMENT}"), 3)  # fmt: skip


def test_text_without_nul_comes_back_unchanged() -> None:
    text = "Re: Gantt \ufffd list\t\r\n"
    assert storable(text) is text
    assert storable(None) is None and storable(7) == 7
