"""Failed sign-ins, counted per account and per client address where every process sees them.

The default store is the database (the `sign_in_failures` table), so every web
process and restart shares one count. `LOGIN_LIMIT_STORAGE_URI` names another
store the `limits` library reads (``redis://host:6379/0``; ``memory://`` keeps it
in one process, for tests only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import delete, func, select

from crm.extensions import db
from crm.models.user import SignInFailure


@dataclass(frozen=True)
class Limit:
    """At most `count` failures under one key in `window`."""

    key: str
    count: int
    window: timedelta


def limits_for(email: str, address: str, config: Any) -> list[Limit]:
    """Return the limits a sign-in for `email` from `address` is under."""
    # The account key is the address typed, known account or not: the limit tells nothing.
    return [
        Limit(
            f"address:{address}",
            int(config["LOGIN_FAILURES_PER_MINUTE"]),
            timedelta(minutes=1),
        ),
        Limit(
            f"account:{email.strip().lower()[:300]}",
            int(config["LOGIN_FAILURES_PER_ACCOUNT"]),
            timedelta(seconds=int(config["LOGIN_ACCOUNT_WINDOW_SECONDS"])),
        ),
    ]


class FailureStore(Protocol):
    def blocked(self, limits: list[Limit], now: datetime) -> bool: ...

    def record(self, limits: list[Limit], now: datetime) -> None: ...

    def forget(self, limit: Limit) -> None: ...


class DatabaseFailures:
    """Failures as rows; the request that records them commits."""

    def blocked(self, limits: list[Limit], now: datetime) -> bool:
        for limit in limits:
            seen = db.session.scalar(
                select(func.count())
                .select_from(SignInFailure)
                .where(SignInFailure.key == limit.key, SignInFailure.at > now - limit.window)
            )
            if (seen or 0) >= limit.count:
                return True
        return False

    def record(self, limits: list[Limit], now: datetime) -> None:
        oldest = now - max(limit.window for limit in limits)
        db.session.execute(delete(SignInFailure).where(SignInFailure.at < oldest))
        db.session.add_all(SignInFailure(key=limit.key, at=now) for limit in limits)
        db.session.flush()

    def forget(self, limit: Limit) -> None:
        db.session.execute(delete(SignInFailure).where(SignInFailure.key == limit.key))


class LimitsFailures:
    """Failures counted by the `limits` library in the store its URI names (Redis)."""

    def __init__(self, uri: str) -> None:
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))

    @staticmethod
    def _item(limit: Limit) -> Any:
        from limits import RateLimitItemPerSecond

        return RateLimitItemPerSecond(limit.count, int(limit.window.total_seconds()))

    def blocked(self, limits: list[Limit], now: datetime) -> bool:
        return not all(self._limiter.test(self._item(lim), "signin", lim.key) for lim in limits)

    def record(self, limits: list[Limit], now: datetime) -> None:
        for limit in limits:
            self._limiter.hit(self._item(limit), "signin", limit.key)

    def forget(self, limit: Limit) -> None:
        self._limiter.clear(self._item(limit), "signin", limit.key)


def init_failure_store(app: Flask) -> None:
    """Choose the store `LOGIN_LIMIT_STORAGE_URI` names (default: the database)."""
    uri = str(app.config.get("LOGIN_LIMIT_STORAGE_URI") or "database")
    store: FailureStore = DatabaseFailures() if uri == "database" else LimitsFailures(uri)
    app.extensions["sign_in_failures"] = store


def failure_store() -> FailureStore:
    store: FailureStore = current_app.extensions["sign_in_failures"]
    return store
