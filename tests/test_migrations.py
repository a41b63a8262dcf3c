"""The migration chain: one head, and upgrade on an empty database matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from crm import PROJECT_ROOT
from crm.extensions import db

pytestmark = pytest.mark.postgres


def _script() -> ScriptDirectory:
    config = Config(str(Path(PROJECT_ROOT) / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(Path(PROJECT_ROOT) / "migrations"))
    return ScriptDirectory.from_config(config)


def test_migration_chain_has_exactly_one_head() -> None:
    assert len(_script().get_heads()) == 1


def test_every_revision_has_a_descriptive_message() -> None:
    for rev in _script().walk_revisions():
        assert rev.doc and len(rev.doc) > 10, f"revision {rev.revision} needs a message"


def test_upgrade_on_an_empty_database_matches_the_models(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
