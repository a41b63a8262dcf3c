"""Bulk inserts store exactly what the ORM stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from crm.gap.bulk import bulk_insert
from crm.models import Prospect

pytestmark = pytest.mark.postgres

WHOLE_SECOND = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_a_bulk_inserted_time_at_a_whole_second_is_stored_as_the_orm_stores_it(
    db: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    db.session.add(Prospect(campaign_id=campaign.id, domain="by-orm.example",
                            created_at=WHOLE_SECOND, updated_at=WHOLE_SECOND,
                            status_changed_at=WHOLE_SECOND))  # fmt: skip
    bulk_insert(
        Prospect,
        [{"domain": "in-bulk.example"}],
        same={"campaign_id": campaign.id, "created_at": WHOLE_SECOND,
              "updated_at": WHOLE_SECOND, "status_changed_at": WHOLE_SECOND},
    )  # fmt: skip
    db.session.commit()

    stored = db.session.execute(
        text("SELECT domain, created_at FROM prospects WHERE campaign_id = :c ORDER BY domain"),
        {"c": campaign.id},
    ).all()
    assert stored[0][1] == stored[1][1]
    same_instant = db.session.scalars(
        select(Prospect.domain)
        .where(Prospect.campaign_id == campaign.id, Prospect.created_at == WHOLE_SECOND)
        .order_by(Prospect.domain)
    ).all()
    assert same_instant == ["by-orm.example", "in-bulk.example"]
