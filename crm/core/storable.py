"""Make text from outside storable: PostgreSQL's text types cannot hold a NUL character."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

# What a NUL becomes: the character that says "something unreadable was here".
REPLACEMENT = "\ufffd"
# What an imported file holding one is told (no real export or CSV writes one).
NUL_IN_FILE = "a NUL character (is this a binary file?)"


def storable(value: T) -> T:
    """Return `value` with every NUL in its text replaced, through lists, dicts and dataclasses.

    Mail, fetched pages and uploads are hostile: one NUL in a reply's subject made
    PostgreSQL refuse the whole poll of its mailbox, on every pass, so no later
    reply in that mailbox was read.
    """
    result: Any = value
    if isinstance(value, str):
        result = value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    elif isinstance(value, list):
        result = [storable(v) for v in value]
    elif isinstance(value, tuple):
        result = tuple(storable(v) for v in value)
    elif isinstance(value, dict):
        result = {storable(k): storable(v) for k, v in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: storable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        result = dataclasses.replace(value, **changes)
    return result
