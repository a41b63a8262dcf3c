"""The object loader: an id names an object only inside the user's campaigns."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from crm.core.ids import parse_id
from crm.models import (
    Contact,
    Enrollment,
    GapImport,
    InboundMessage,
    Mailbox,
    Notification,
    Prospect,
    Suppression,
    TargetPage,
    Touch,
    WonLink,
)
from crm.web.objects import (
    find_object,
    load_object,
    load_objects,
    load_optional,
    visible,
)
from tests.outreach.factories import MailboxFactory
from tests.web.campaign_objects import build_campaign_objects

pytestmark = pytest.mark.postgres

MODELS = {
    "prospect": Prospect,
    "contact": Contact,
    "target": TargetPage,
    "mailbox": Mailbox,
    "enrollment": Enrollment,
    "touch": Touch,
    "reply": InboundMessage,
    "link": WonLink,
    "gap_import": GapImport,
}


@pytest.fixture
def two_teams(db: Any, team: dict[str, Any]) -> dict[str, Any]:
    mine = build_campaign_objects(team["campaign"], "mine")
    theirs = build_campaign_objects(team["other_campaign"], "theirs")
    db.session.commit()
    return {**team, "mine": mine, "theirs": theirs}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_specialist_finds_their_campaigns_object_and_not_another_campaigns(
    two_teams: dict[str, Any], kind: str
) -> None:
    specialist = two_teams["specialist"]
    model = MODELS[kind]
    mine, theirs = two_teams["mine"][kind], two_teams["theirs"][kind]
    assert find_object(model, mine.id, user=specialist) is mine
    assert find_object(model, theirs.id, user=specialist) is None
    with pytest.raises(NotFound):
        load_object(model, theirs.id, user=specialist)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_find_every_campaigns_objects(
    two_teams: dict[str, Any], kind: str, role: str
) -> None:
    model = MODELS[kind]
    for side in ("mine", "theirs"):
        obj = two_teams[side][kind]
        assert load_object(model, obj.id, user=two_teams[role]) is obj


@pytest.mark.parametrize("kind", sorted(set(MODELS) - {"mailbox"}))
def test_an_object_of_another_campaign_is_not_found_under_this_one_even_for_a_manager(
    two_teams: dict[str, Any], kind: str
) -> None:
    theirs = two_teams["theirs"][kind]
    manager = two_teams["manager"]
    model = MODELS[kind]
    mine, other = two_teams["campaign"], two_teams["other_campaign"]
    assert find_object(model, theirs.id, user=manager, campaign=mine) is None
    assert find_object(model, theirs.id, user=manager, campaign=other) is theirs


def test_triage_message_is_seen_through_the_campaign_mailbox_link(
    two_teams: dict[str, Any],
) -> None:
    specialist = two_teams["specialist"]
    assert find_object(InboundMessage, two_teams["mine"]["triage"].id, user=specialist)
    assert find_object(InboundMessage, two_teams["theirs"]["triage"].id, user=specialist) is None


def test_a_campaign_with_mailboxes_uses_only_its_own(two_teams: dict[str, Any]) -> None:
    manager, campaign = two_teams["manager"], two_teams["campaign"]
    shared = MailboxFactory(name="shared-pool")
    theirs = two_teams["theirs"]["mailbox"]
    assert load_object(Mailbox, two_teams["mine"]["mailbox"].id, user=manager, campaign=campaign)
    assert find_object(Mailbox, theirs.id, user=manager, campaign=campaign) is None
    assert find_object(Mailbox, shared.id, user=manager, campaign=campaign) is None


def test_a_campaign_without_mailboxes_uses_the_shared_pool_and_the_users_own(
    db: Any, two_teams: dict[str, Any]
) -> None:
    from tests.factories import CampaignFactory

    specialist = two_teams["specialist"]
    bare = CampaignFactory(name="No mailboxes", members=[specialist])
    shared = MailboxFactory(name="shared-pool")
    db.session.flush()
    mine, theirs = two_teams["mine"]["mailbox"], two_teams["theirs"]["mailbox"]
    assert find_object(Mailbox, shared.id, user=specialist, campaign=bare) is shared
    assert find_object(Mailbox, mine.id, user=specialist, campaign=bare) is mine
    assert find_object(Mailbox, theirs.id, user=specialist, campaign=bare) is None
    assert find_object(Mailbox, theirs.id, user=two_teams["manager"], campaign=bare) is theirs


def test_a_notification_is_only_its_owners_whatever_the_role(
    db: Any, two_teams: dict[str, Any]
) -> None:
    note = Notification(user_id=two_teams["specialist"].id, text="Reply", link="/inbox")
    db.session.add(note)
    db.session.flush()
    assert find_object(Notification, note.id, user=two_teams["specialist"]) is note
    assert find_object(Notification, note.id, user=two_teams["admin"]) is None


@pytest.mark.parametrize(
    "raw", ["", "abc", "0", "-3", " ", "1.5", "²", "١", str(2**63), str(10**30), None, True, 0]
)
def test_values_that_cannot_name_an_object_are_not_found(
    two_teams: dict[str, Any], raw: Any
) -> None:
    assert parse_id(raw) is None
    assert find_object(Prospect, raw, user=two_teams["manager"]) is None


def test_form_values_with_spaces_still_name_their_object(two_teams: dict[str, Any]) -> None:
    prospect = two_teams["mine"]["prospect"]
    assert find_object(Prospect, f" {prospect.id} ", user=two_teams["specialist"]) is prospect


def test_an_empty_optional_field_is_none_and_a_foreign_one_is_404(
    two_teams: dict[str, Any],
) -> None:
    specialist = two_teams["specialist"]
    assert load_optional(Mailbox, "", user=specialist) is None
    assert load_optional(Mailbox, None, user=specialist) is None
    with pytest.raises(NotFound):
        load_optional(Mailbox, str(two_teams["theirs"]["mailbox"].id), user=specialist)


def test_a_list_of_ids_is_all_the_users_or_404(db: Any, two_teams: dict[str, Any]) -> None:
    from tests.factories import ProspectFactory

    specialist, campaign = two_teams["specialist"], two_teams["campaign"]
    first = two_teams["mine"]["prospect"]
    second = ProspectFactory(campaign=campaign)
    db.session.flush()
    ids = [str(second.id), str(first.id), str(second.id)]
    assert load_objects(Prospect, ids, user=specialist, campaign=campaign) == [second, first]
    assert load_objects(Prospect, [], user=specialist) == []
    with pytest.raises(NotFound):
        load_objects(Prospect, [first.id, two_teams["theirs"]["prospect"].id], user=specialist)
    with pytest.raises(NotFound):
        load_objects(Prospect, [first.id, "x"], user=specialist)


def test_visible_restricts_a_list_to_the_users_campaigns(two_teams: dict[str, Any]) -> None:
    from crm.extensions import db

    stmt = visible(Prospect, select(Prospect.domain), user=two_teams["specialist"])
    assert db.session.scalars(stmt).all() == ["mine-prospect.example"]
    everything = visible(Prospect, select(Prospect.domain), user=two_teams["manager"])
    assert len(db.session.scalars(everything).all()) == 2


def test_a_model_without_an_access_rule_is_a_programming_error(
    two_teams: dict[str, Any],
) -> None:
    with pytest.raises(TypeError, match="no access rule"):
        find_object(Suppression, 1, user=two_teams["specialist"])


def test_triage_of_a_mailbox_merely_used_by_my_enrollment_stays_its_teams(
    db: Any, two_teams: dict[str, Any]
) -> None:
    # The first reproduction: enrolling with another team's mailbox used to open its triage.
    theirs = two_teams["theirs"]
    enrollment = two_teams["mine"]["enrollment"]
    enrollment.mailbox_id = theirs["mailbox"].id
    db.session.flush()
    specialist = two_teams["specialist"]
    assert find_object(InboundMessage, theirs["triage"].id, user=specialist) is None
