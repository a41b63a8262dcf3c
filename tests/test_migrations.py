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


def test_upgrade_keeps_existing_rows_when_later_migrations_add_columns(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    import flask_migrate
    from sqlalchemy import text

    from crm import create_app
    from tests.conftest import _base_config

    if backend == "postgres":
        url = request.getfixturevalue("postgres_migrated")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(_base_config(tmp_path / "instance", url))
    with app.app_context():
        flask_migrate.upgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sites (domain, name, created_at) "
                    "VALUES ('a.com', '', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO campaigns (name, site_id, created_at, archived, min_overlap, "
                    "rerun_cadence_days, stop_all_on_reply, settings) "
                    "VALUES ('c', 1, CURRENT_TIMESTAMP, false, 1, 90, true, '{}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO prospects (campaign_id, domain, status, status_changed_at, "
                    "source, notes, created_at, updated_at) "
                    "VALUES (1, 'p.com', 'new', CURRENT_TIMESTAMP, "
                    "'manual', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT domain, in_gap, overlap FROM prospects")).one()
        db.engine.dispose()
    assert row[0] == "p.com" and not row[1] and row[2] == 0
