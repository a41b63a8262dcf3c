"""The gap table page stays cheap per request and shows what it did before it was made so."""

from __future__ import annotations

from typing import Any

import pytest

from crm.gap.queries import TABLE_COLUMNS, GapFilter, TableRow, page_of
from crm.models import Prospect
from crm.web.access import is_campaign_member

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


def test_membership_is_one_exists_per_user_and_campaign(db: Any, team: dict[str, Any]) -> None:
    specialist = team["specialist"]
    assert is_campaign_member(specialist.id, team["campaign"].id)
    assert not is_campaign_member(specialist.id, team["other_campaign"].id)
    assert not is_campaign_member(team["manager"].id, team["campaign"].id)


def test_a_member_specialist_sees_the_table_and_a_stranger_gets_403(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    assert client.get(f"/campaigns/{team['campaign'].id}/gap").status_code == 200
    assert client.get(f"/campaigns/{team['other_campaign'].id}/gap").status_code == 403
