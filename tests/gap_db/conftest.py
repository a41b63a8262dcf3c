"""Fixtures of the gap import and table tests: the five exports and a helper to import them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from crm.gap.service import SourceFile, add_sources, create_import, run_import
from crm.models import Campaign, GapImport
from tests.gap_db.exports import write_exports

DATA = Path(__file__).parent / "data"


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """The mixed set of exports for the site and its 4 competitors, {owner: path}."""
    return write_exports(tmp_path / "exports")


ImportFn = Callable[..., GapImport]


@pytest.fixture
def import_files(db: Any) -> ImportFn:
    """Import files into a campaign the way `crm gap import` does; return the import."""

    def run(campaign: Campaign, paths: Iterable[Path | SourceFile]) -> GapImport:
        gap_import = create_import(campaign)
        sources = [p if isinstance(p, SourceFile) else SourceFile(str(p), p.name) for p in paths]
        add_sources(gap_import, sources)
        db.session.commit()
        return run_import(gap_import.id)

    return run
