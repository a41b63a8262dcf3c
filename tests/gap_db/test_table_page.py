"""The gap table page stays cheap per request and shows what it did before it was made so."""

from __future__ import annotations

from typing import Any

import pytest

from crm.web.access import is_campaign_member

pytestmark = pytest.mark.postgres


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
