"""Model basics: aware UTC times on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm.models import AuditLog, utcnow
from tests.factories import UserFactory

pytestmark = pytest.mark.postgres


def test_times_round_trip_as_aware_utc(db) -> None:  # type: ignore[no-untyped-def]
    paris = timezone(timedelta(hours=1))
    entry = AuditLog(action="x", at=datetime(2026, 3, 29, 3, 30, tzinfo=paris))
    db.session.add(entry)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(AuditLog, entry.id)
    assert loaded.at == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert loaded.at.tzinfo is not None


def test_naive_datetimes_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    db.session.add(AuditLog(action="x", at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_defaults_use_the_clock_at_insert_time(db) -> None:  # type: ignore[no-untyped-def]
    before = utcnow()
    user = UserFactory()
    db.session.commit()
    assert before <= user.created_at <= utcnow()
