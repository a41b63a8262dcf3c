"""Reading the gap: a page of the table is plain named tuples."""

from __future__ import annotations

from typing import Any

import pytest

from crm.gap.queries import TABLE_COLUMNS, GapFilter, TableRow, page_of
from crm.models import Prospect

pytestmark = pytest.mark.postgres


def test_a_page_is_named_tuples_of_the_table_columns(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    db.session.add(Prospect(campaign_id=campaign.id, domain="alpha.com", in_gap=True, score=0.5))
    db.session.commit()
    rows, total = page_of(campaign.id, GapFilter(), 1, 50)
    assert total == 1
    assert [type(r) for r in rows] == [TableRow]
    assert rows[0].domain == "alpha.com" and rows[0].score == 0.5
    assert [c.key for c in TABLE_COLUMNS] == list(TableRow._fields)
