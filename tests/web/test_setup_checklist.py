"""The home page's first-run checklist: each step links to where it is done and ticks itself."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crm.jobs import SCHEDULER_LOCK, acquire_lock
from crm.models import Enrollment, GapImport, ProspectStatus, Sequence
from tests.factories import ContactFactory, ProspectFactory
from tests.outreach.factories import MailboxFactory

pytestmark = pytest.mark.postgres


def _steps(page: str) -> list[tuple[str, str]]:
    """(label, done or todo) of every step, in order."""
    return re.findall(
        r'<li class="(done|todo)">.*?<strong>(?:<a href="[^"]*">)?([^<]+)', page, re.S
    )


def test_a_new_workspace_shows_what_is_left_and_where_to_do_it(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    page = client.get("/").get_data(as_text=True)
    assert [(label, state) for state, label in _steps(page)] == [
        ("Your site and its competitors", "done"),
        ("Import backlink exports", "todo"),
        ("Review the gap", "todo"),
        ("Target pages", "done"),
        ("Connect and test a mailbox", "todo"),
        ("First enrollment", "todo"),
        ("Worker running", "todo"),
    ]
    cid = team["campaign"].id
    assert f'<a href="/campaigns/{cid}/gap/import">Import backlink exports</a>' in page
    assert f'<a href="/campaigns/{cid}/gap">Review the gap</a>' in page
    assert '<a href="/settings/mailboxes">Connect and test a mailbox</a>' in page
    assert "(an admin does this)" in page
    assert "2 of 7 steps done" in page


def test_without_a_campaign_every_campaign_step_leads_to_creating_one(
    client: Any, team: dict[str, Any], db: Any
) -> None:
    from tests.factories import UserFactory

    loner = UserFactory(role="specialist", email="loner@linkgap.example")
    db.session.commit()
    client.login(loner.email)
    page = client.get("/").get_data(as_text=True)
    assert page.count('href="/campaigns/new"') >= 4
    assert "(a manager does this)" in page


def test_each_step_ticks_itself_and_a_finished_workspace_goes_to_its_campaigns(
    client: Any, team: dict[str, Any], db: Any
) -> None:
    campaign = team["campaign"]
    prospect = ProspectFactory(campaign=campaign, status=ProspectStatus.QUALIFIED)
    contact = ContactFactory(prospect=prospect)
    mailbox = MailboxFactory()
    db.session.add(GapImport(campaign_id=campaign.id))
    db.session.flush()
    sequence = db.session.query(Sequence).first()
    db.session.add(Enrollment(prospect=prospect, contact=contact, sequence=sequence,
                              mailbox=mailbox, angle="skyscraper"))  # fmt: skip
    db.session.commit()
    client.login(team["specialist"].email)
    page = client.get("/").get_data(as_text=True)
    assert [state for state, _ in _steps(page)] == ["done"] * 6 + ["todo"]
    assert acquire_lock(SCHEDULER_LOCK, "host:1")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/campaigns")


def test_the_demo_workspace_goes_straight_to_its_campaigns(client: Any, db: Any) -> None:
    from crm.demo import DEMO_LOGIN, seed_demo_workspace

    seed_demo_workspace()
    db.session.commit()
    client.login(*DEMO_LOGIN)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/campaigns")
