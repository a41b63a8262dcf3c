"""Triage in the inbox: what mail could not prove waits for a person, who confirms it in one
click; a colleague's reply says whom we really wrote to; the message page's cards fit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.models import Enrollment, EnrollmentState, InboundMessage, Suppression
from tests.outreach.factories import World, enroll_and_send_first, make_world
from tests.replies.factories import deliver, reply
from tests.replies.forged import (
    A,
    B,
    colleague_unsubscribe,
    forged_dsn_bare_domain,
    forged_unsubscribe_from_a_stranger,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(app: Flask, team: dict[str, Any]) -> World:
    built = make_world(None, None, [A, B], specialist=team["specialist"])
    enroll_and_send_first(app, built, transport="memory")
    return built


def _suppressed() -> set[str]:
    return set(db.session.scalars(select(Suppression.value)))


def test_stranger_unsubscribe_waits_in_triage_and_one_click_suppresses_only_that_address(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = deliver(world.mailbox, forged_unsubscribe_from_a_stranger(world))
    assert message is not None and _suppressed() == set()
    client.login(team["specialist"].email)

    triage = client.get("/inbox?tab=triage").get_data(as_text=True)
    assert "Suppress jo@somewhere-else.net" in triage
    assert "no touch of ours went to that address" in triage
    response = client.post_form(f"/inbox/messages/{message.id}/confirm", page="/inbox?tab=triage")

    assert response.status_code == 302
    db.session.expire_all()
    assert _suppressed() == {"jo@somewhere-else.net"}
    assert {world.enrollment(A).state, world.enrollment(B).state} == {EnrollmentState.ACTIVE}
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirmed: jo@somewhere-else.net is never emailed again" in after
    assert f'data-message="{message.id}"' not in after  # handled: out of triage
    again = client.post_form(
        f"/inbox/messages/{message.id}/confirm", page=f"/inbox/messages/{message.id}"
    )
    assert again.status_code == 302
    assert "nothing to confirm" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_colleague_unsubscribe_stops_the_sequence_and_offers_to_suppress_the_colleague(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = deliver(world.mailbox, colleague_unsubscribe(world))
    assert message is not None
    assert world.enrollment(A).state == EnrollmentState.STOPPED and _suppressed() == set()
    client.login(team["specialist"].email)

    page = client.get(f"/inbox/messages/{message.id}").get_data(as_text=True)
    assert "Suggested action" in page and f"Suppress desk@{A}" in page
    client.post_form(f"/inbox/messages/{message.id}/confirm", page=f"/inbox/messages/{message.id}")

    db.session.expire_all()
    assert _suppressed() == {f"desk@{A}"}
    assert "Suggested action" not in client.get(f"/inbox/messages/{message.id}").get_data(
        as_text=True
    )


def test_a_report_naming_a_domain_offers_nothing_to_suppress(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = deliver(world.mailbox, forged_dsn_bare_domain(world))
    assert message is not None
    client.login(team["manager"].email)

    page = client.get(f"/inbox/messages/{message.id}").get_data(as_text=True)
    assert "the report names no email address" in page
    assert "Suppress" not in page
    response = client.post_form(
        f"/inbox/messages/{message.id}/confirm", page=f"/inbox/messages/{message.id}"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _suppressed() == set()


def test_a_colleagues_reply_never_claims_we_wrote_to_the_colleague(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    raw = reply(None, sender=f"desk@{A}", message_id="<desk-reply@pmtoolsreview.com>",
                body="Ed is away, I can add your template.")  # fmt: skip
    message = deliver(world.mailbox, raw)
    assert message is not None and message.match_method == "domain"
    client.login(team["specialist"].email)

    row = client.get("/inbox").get_data(as_text=True)
    row = row[row.index(f'id="message-{message.id}"') :]
    why = re.search(r'<ul class="evidence">(.*?)</ul>', row, re.S)
    assert why is not None
    assert "from an address we wrote to" not in why.group(1)
    assert "from the domain of an address we wrote to" in why.group(1)
    assert f"a colleague of editor@{A}" in why.group(1)


def test_message_page_shows_the_outcome_buttons_in_their_own_card(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = deliver(
        world.mailbox,
        reply(world.touch(A), sender=f"editor@{A}", message_id="<card@pmtoolsreview.com>"),
    )
    assert message is not None
    client.login(team["specialist"].email)

    page = client.get(f"/inbox/messages/{message.id}").get_data(as_text=True)
    card = page[page.index('id="outcome"') :]
    card = card[: card.index("</article>")]
    assert "<table" not in card and 'name="outcome" value="positive"' in card
    response = client.post_form(
        f"/inbox/messages/{message.id}/outcome", {"outcome": "neutral"},
        page=f"/inbox/messages/{message.id}",
    )  # fmt: skip
    assert response.headers["Location"] == f"/inbox/messages/{message.id}"
    db.session.expire_all()
    stored = db.session.get(InboundMessage, message.id)
    assert stored is not None and stored.outcome is not None
    assert stored.outcome.value == "neutral"


def test_triage_follows_the_campaign_mailbox_links_not_the_mailboxes_used(
    app: Flask, client: Any, world: World, team: dict[str, Any]
) -> None:
    other = make_world(
        None, None, ["their-prospect.com"], campaign_name="Other team",
        mailbox={"name": "bob", "from_email": "bob@sample-site.example"},
    )  # fmt: skip
    # A touch of the specialist's campaign went out from the other team's mailbox.
    enrollment = db.session.get(Enrollment, world.enrollment(A).id)
    assert enrollment is not None
    enrollment.mailbox_id = other.mailbox.id
    db.session.commit()
    stranger = deliver(other.mailbox, reply(None, sender="x@y.net", subject="Re: x",
                                            message_id="<x@y.net>"))  # fmt: skip
    assert stranger is not None
    client.login(team["specialist"].email)

    assert "x@y.net" not in client.get("/inbox?tab=triage").get_data(as_text=True)
    assert client.get(f"/inbox/messages/{stranger.id}").status_code == 404


def test_an_unreadable_message_waits_in_triage_saying_where_to_find_it_and_can_be_assigned(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    from crm.mail.imap import Cursor, FetchedMessage
    from crm.mail.parse import parse_raw
    from crm.models import utcnow
    from crm.replies.receive import store_unreadable

    raw = reply(world.touch(A), sender=f"editor@{A}", message_id="<x@pmtoolsreview.com>")
    item = FetchedMessage(uid=7, facts=parse_raw(raw), cursor=Cursor(1, 7), internal_date=None)
    kept = store_unreadable(world.mailbox.id, "INBOX", item, "RuntimeError('bug')", utcnow())
    db.session.commit()
    client.login(team["specialist"].email)

    triage = client.get("/inbox?tab=triage").get_data(as_text=True)
    assert "A message Linkgap could not read (UID 7 of INBOX)" in triage
    page = client.get(f"/inbox/messages/{kept.id}").get_data(as_text=True)
    assert "Open UID 7 of INBOX in the mailbox itself" in page
    assert "<dt>From</dt><dd>not read</dd>" in page
    prospect_id = str(world.enrollment(A).prospect_id)
    response = client.post_form(f"/inbox/messages/{kept.id}/assign", {"prospect_id": prospect_id},
                                page=f"/inbox/messages/{kept.id}")  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert world.enrollment(A).state == EnrollmentState.STOPPED
