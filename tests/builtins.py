"""The built-in angles and sequences, read from the migration that creates them.

Migrations are not a package; the test database setup, the tests of the shipped
sequences and the send bench load this one by its path.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

from crm import PROJECT_ROOT

MIGRATION = Path(PROJECT_ROOT) / "migrations" / "versions" / "0016_builtin_sequences.py"


@functools.cache
def builtin_sequences() -> ModuleType:
    """The migration module: BUILTIN_ANGLES, DEFAULT_SEQUENCES, insert_builtin_sequences(conn)."""
    spec = importlib.util.spec_from_file_location("migration_0016_builtin_sequences", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
