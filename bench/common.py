"""Shared pieces of `make bench`: a row of the table and a timer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BenchRow:
    """One figure next to its baseline from the same run."""

    figure: str
    value: float
    baseline: str
    baseline_value: float
    unit: str = "s"
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("inf")


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yield a one-item list that holds the elapsed seconds after the block."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Run fn `runs` times; return the fastest wall time and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None or runs > 0
    return best, result  # type: ignore[return-value]


# --- a migrated app on a throwaway database, a signed-in client, p95 latency ------------

BENCH_ENCRYPTION_KEY = "q3Xn1b2hJm8WkYtqY0l8yq3kqJ3yG3kq3Xn1b2hJm8U="
BENCH_PASSWORD = "bench-password-1234"


def reset_postgres(url: str) -> None:
    """Empty a throwaway PostgreSQL database (drop and recreate its public schema)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrated_app(url: str, instance: str) -> Any:
    """Create the app on `url`, upgrade the schema and add a manager (BENCH_PASSWORD)."""
    import flask_migrate

    from crm import create_app
    from crm.core.users import create_user
    from crm.extensions import db
    from crm.models import Role

    settings = {"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench",
                "ENCRYPTION_KEY": BENCH_ENCRYPTION_KEY, "RATELIMIT_ENABLED": False}  # fmt: skip
    app = create_app(settings)
    with app.app_context():
        flask_migrate.upgrade()
        create_user("manager@bench.example", Role.MANAGER, BENCH_PASSWORD, "Bench")
        db.session.commit()
    return app


def analyze(app: Any) -> None:
    """Refresh the planner's statistics after a bulk load."""
    from sqlalchemy import text

    from crm.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def signed_in_client(app: Any) -> Any:
    """A test client of the app, signed in as the bench manager through the real form."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None, "no CSRF token on the sign-in page"
    form = {"email": "manager@bench.example", "password": BENCH_PASSWORD,
            "csrf_token": token.group(1)}  # fmt: skip
    signed = client.post("/login", data=form)
    assert signed.status_code == 302, signed.status_code
    return client


def timed_get(client: Any, path: str) -> Callable[[], float]:
    """A function that GETs `path` (expecting 200), reads the body and returns the seconds."""

    def once() -> float:
        began = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        response.get_data()
        return time.perf_counter() - began

    return once


def p95(samples: list[float]) -> float:
    import statistics

    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
