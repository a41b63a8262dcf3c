from typing import Any

import pytest

from crm.core.campaigns import create_campaign, find_campaign
from crm.core.errors import UserError
from crm.models import Role
from tests.factories import UserFactory


def test_the_manager_who_creates_a_campaign_becomes_its_member(db: Any) -> None:
    manager = UserFactory(role=Role.MANAGER)
    specialist = UserFactory(role=Role.SPECIALIST)

    campaign = create_campaign(
        "Spring", "example.com", ["rival.com"], members=[specialist], actor=manager
    )

    assert {m.id for m in campaign.members} == {manager.id, specialist.id}


def test_a_creator_already_among_the_members_is_listed_once(db: Any) -> None:
    manager = UserFactory(role=Role.MANAGER)

    campaign = create_campaign(
        "Spring", "example.com", ["rival.com"], members=[manager], actor=manager
    )

    assert [m.id for m in campaign.members] == [manager.id]


@pytest.mark.parametrize("name_or_id", ["²", "3000000000", "9" * 5000])
def test_a_campaign_asked_for_by_a_number_no_id_can_hold_is_not_found(
    db: Any, name_or_id: str
) -> None:
    with pytest.raises(UserError, match="no campaign named"):
        find_campaign(name_or_id)
