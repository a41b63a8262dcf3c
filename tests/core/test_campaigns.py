from typing import Any

from crm.core.campaigns import create_campaign
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
