"""Test fixtures: a clean database per test (SQLite, and PostgreSQL when configured),
real forms with CSRF, and no network outside loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.builtins import builtin_sequences
from tests.components import postgres_url, require
from tests.netguard import loopback_only

pytest_plugins = ["tests.fixtures.plugins"]

TEST_ENCRYPTION_KEY = "q3Xn1b2hJm8WkYtqY0l8yq3kqJ3yG3kq3Xn1b2hJm8U="
PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def _no_network_outside_loopback() -> Iterator[None]:
    with loopback_only():
        yield


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run `postgres` tests on both backends, `postgres_only` on PostgreSQL, others on SQLite."""
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgres") is not None:
            backends.append("postgres")
        if metafunc.definition.get_closest_marker("postgres_only") is not None:
            backends = ["postgres"]
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


def _base_config(instance: Path, url: str) -> dict[str, Any]:
    return {
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "TESTING": True,
        "BASE_URL": "http://127.0.0.1:5000",
    }


def _migrate(url: str, instance: Path) -> None:
    import flask_migrate

    from crm import create_app
    from crm.extensions import db

    app = create_app(_base_config(instance, url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for every test (fast and real)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = postgres_url()
    if url is None:
        require("postgres", "set CRM_TEST_DATABASE_URL to a PostgreSQL URL")
        raise AssertionError("unreachable")
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:
        require("postgres", f"cannot connect to {url}: {exc}")
    _migrate(url, tmp_path_factory.mktemp("pg"))
    return url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # The rows migrations insert come back as the migration made them.
        builtin_sequences().insert_builtin_sequences(conn)
    engine.dispose()


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_migrated")
        _truncate_postgres(url)
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "test.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The config of the test app; override this fixture to change settings."""
    return _base_config(tmp_path / "instance", database_url)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    from crm import create_app
    from crm.extensions import db

    application = create_app(app_config)
    application.test_client_class = FormClient
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    from crm.extensions import db as database

    return database


class FormClient(FlaskClient):
    """A test client that fills in CSRF tokens the way a browser form would."""

    def csrf_token(self, page: str = "/login") -> str:
        html = self.get(page, follow_redirects=True).get_data(as_text=True)
        match = _CSRF.search(html)
        if match is None:
            raise AssertionError(f"no CSRF token on {page}")
        return match.group(1) or match.group(2)

    def post_form(
        self, url: str, data: dict[str, Any] | None = None, *, page: str | None = None, **kw: Any
    ) -> Any:
        """POST like a browser: read the token from `page` (default: the URL itself)."""
        token = self.csrf_token(page or url)
        payload = {"csrf_token": token, **(data or {})}
        return self.post(url, data=payload, **kw)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        response = self.post_form("/login", {"email": email, "password": password})
        assert response.status_code == 302, f"sign-in as {email} failed: {response.status_code}"
        return response


@pytest.fixture
def client(app: Flask) -> FormClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def team(db: Any) -> dict[str, Any]:
    """An admin, a manager, a specialist, a campaign the specialist works and one they don't."""
    from tests.factories import CampaignFactory, TargetPageFactory, UserFactory

    admin = UserFactory(role="admin", email="admin@linkgap.example")
    manager = UserFactory(role="manager", email="manager@linkgap.example")
    specialist = UserFactory(role="specialist", email="specialist@linkgap.example")
    mine = CampaignFactory(name="Mine", members=[specialist])
    other = CampaignFactory(name="Other")
    target = TargetPageFactory(campaign=mine)
    db.session.commit()
    return {
        "admin": admin,
        "manager": manager,
        "specialist": specialist,
        "campaign": mine,
        "other_campaign": other,
        "target": target,
    }
