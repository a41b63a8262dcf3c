"""The Inbox pages: tabs, who sees what, outcomes, assigning by hand, notifications, the thread."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import (
    EnrollmentState,
    InboundMessage,
    Notification,
    ProspectStatus,
    ReplyOutcome,
    Role,
)
from tests.factories import UserFactory
from tests.outreach.factories import World, enroll_and_send_first, make_mailbox, make_world
from tests.replies.factories import deliver, hard_bounce, reply

pytestmark = pytest.mark.postgres

A, B = "pmtoolsreview.com", "ganttguide.org"


@pytest.fixture
def world(app: Flask, team: dict[str, Any]) -> World:
    built = make_world(None, None, [A, B], specialist=team["specialist"])
    enroll_and_send_first(app, built, transport="memory")
    return built


def _reply(world: World, domain: str = A, **kw: Any) -> InboundMessage:
    kw.setdefault("message_id", f"<reply@{domain}>")
    message = deliver(world.mailbox, reply(world.touch(domain), sender=f"editor@{domain}", **kw))
    assert message is not None
    return message


def _unmatched(world: World, sender: str = "jo@somewhere-else.net") -> InboundMessage:
    raw = reply(None, sender=sender, subject="Re: a question", message_id=f"<u@{sender}>",
                body="Is this about the Gantt template?")  # fmt: skip
    message = deliver(world.mailbox, raw)
    assert message is not None and message.prospect_id is None
    return message


def test_replies_tab_shows_the_reply_with_its_evidence_and_suggested_outcome(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    _reply(world, body="Sure, happy to add it to the list.")
    client.login(team["specialist"].email)

    html = client.get("/inbox").get_data(as_text=True)

    assert "editor@pmtoolsreview.com" in html
    assert "In-Reply-To/References name one of our messages" in html
    assert "suggested: <strong>positive</strong>" in html
    assert "stopped the sequence of editor@pmtoolsreview.com (replied)" in html
    assert 'data-outcome-url="/inbox/messages/' in html


def test_auto_replies_tab_shows_why_a_message_is_automatic(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    _reply(world, headers="Auto-Submitted: auto-replied\r\n", subject="Automatic reply: Thanks",
           body="Thanks for your message, we will get back to you.")  # fmt: skip
    client.login(team["specialist"].email)

    html = client.get("/inbox?tab=auto").get_data(as_text=True)

    assert "Auto-Submitted: auto-replied" in html and "auto-reply" in html


def test_bounces_tab_lists_the_bounce_and_its_status(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    deliver(world.mailbox, hard_bounce(world.touch(A), recipient=f"editor@{A}",
                                       message_id="<b@mx.example>"))  # fmt: skip
    client.login(team["specialist"].email)

    html = client.get("/inbox?tab=bounces").get_data(as_text=True)

    assert "hard bounce" in html and "5.1.1" in html
    assert f"editor@{A} is never emailed again" in html


def test_specialist_sees_only_their_campaigns_and_their_mailboxes_triage(
    app: Flask, client: Any, world: World, team: dict[str, Any]
) -> None:
    ours = _reply(world)
    theirs_world = make_world(
        None, None, ["other-prospect.com"], campaign_name="Other work",
        mailbox={"name": "bob", "from_email": "bob@sample-site.example"},
    )  # fmt: skip
    enroll_and_send_first(app, theirs_world, transport="memory")
    theirs = deliver(theirs_world.mailbox, reply(theirs_world.touch("other-prospect.com"),
                     sender="editor@other-prospect.com", message_id="<t@other>"))  # fmt: skip
    assert theirs is not None
    my_triage = _unmatched(world)
    other_triage = deliver(theirs_world.mailbox, reply(None, sender="x@y.net", subject="Re: x",
                                                       message_id="<x@y.net>"))  # fmt: skip
    assert other_triage is not None
    client.login(team["specialist"].email)

    assert "editor@pmtoolsreview.com" in client.get("/inbox").get_data(as_text=True)
    assert "other-prospect.com" not in client.get("/inbox").get_data(as_text=True)
    triage = client.get("/inbox?tab=triage").get_data(as_text=True)
    assert "jo@somewhere-else.net" in triage and "x@y.net" not in triage
    assert client.get(f"/inbox/messages/{ours.id}").status_code == 200
    assert client.get(f"/inbox/messages/{my_triage.id}").status_code == 200
    # Another team's message is "not found", like an id that does not exist.
    assert client.get(f"/inbox/messages/{theirs.id}").status_code == 404
    assert client.get(f"/inbox/messages/{other_triage.id}").status_code == 404
    other_campaign = theirs_world.campaign.id
    assert client.get(f"/inbox?campaign={other_campaign}").status_code == 403

    client.post_form("/logout", page="/inbox")
    client.login(team["manager"].email)
    everything = client.get("/inbox?tab=triage").get_data(as_text=True)
    assert "jo@somewhere-else.net" in everything and "x@y.net" in everything


def test_marking_an_outcome_with_htmx_returns_the_updated_row(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _reply(world)
    client.login(team["specialist"].email)
    token = client.csrf_token("/inbox")

    response = client.post(
        f"/inbox/messages/{message.id}/outcome",
        data={"outcome": "negative"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="message-{message.id}"')
    assert re.search(r'outcome-negative chosen"\s+aria-pressed="true"', row)
    db.session.expire_all()
    stored = db.session.get(InboundMessage, message.id)
    assert stored is not None and stored.outcome == ReplyOutcome.NEGATIVE
    assert stored.outcome_by_id == team["specialist"].id
    assert world.prospect(A).status == ProspectStatus.DECLINED


def test_outcome_form_without_javascript_redirects_back_to_the_tab(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _reply(world)
    client.login(team["specialist"].email)

    response = client.post_form(
        f"/inbox/messages/{message.id}/outcome",
        {"outcome": "positive", "next": "/inbox?tab=replies"},
        page="/inbox",
    )

    assert response.status_code == 302 and response.headers["Location"] == "/inbox?tab=replies"
    assert world.prospect(A).status == ProspectStatus.NEGOTIATING


def test_a_bounce_gets_no_outcome(client: Any, world: World, team: dict[str, Any]) -> None:
    bounce = deliver(world.mailbox, hard_bounce(world.touch(A), recipient=f"editor@{A}",
                                                message_id="<b@mx.example>"))  # fmt: skip
    assert bounce is not None
    client.login(team["specialist"].email)

    response = client.post_form(
        f"/inbox/messages/{bounce.id}/outcome", {"outcome": "positive"}, page="/inbox"
    )

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "only replies get an outcome" in page
    token = client.csrf_token("/inbox")
    swapped = client.post(
        f"/inbox/messages/{bounce.id}/outcome",
        data={"outcome": "positive"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert swapped.status_code == 200, "htmx swaps only 2xx answers"
    assert "only replies get an outcome" in swapped.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example"])
def test_outcome_never_redirects_off_the_site(
    client: Any, world: World, team: dict[str, Any], target: str
) -> None:
    message = _reply(world)
    client.login(team["specialist"].email)

    response = client.post_form(
        f"/inbox/messages/{message.id}/outcome", {"outcome": "neutral", "next": target},
        page="/inbox",
    )  # fmt: skip

    assert response.headers["Location"] == f"/inbox/messages/{message.id}"


def test_assigning_an_unmatched_message_by_hand_runs_its_effects(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _unmatched(world, sender="sarah.owner@gmail.com")
    client.login(team["specialist"].email)

    found = client.get(f"/inbox/messages/{message.id}?q=ganttguide").get_data(as_text=True)
    assert "Assign to ganttguide.org" in found
    prospect = world.prospect(B)
    response = client.post_form(
        f"/inbox/messages/{message.id}/assign",
        {"prospect_id": str(prospect.id)},
        page=f"/inbox/messages/{message.id}",
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert world.enrollment(B).state == EnrollmentState.STOPPED
    assert world.prospect(B).status == ProspectStatus.REPLIED
    stored = db.session.get(InboundMessage, message.id)
    assert stored is not None and stored.match_method == "manual"
    assert stored.matched_touch_id == world.touch(B).id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Assigned to ganttguide.org" in page
    triage = client.get("/inbox?tab=triage").get_data(as_text=True)
    assert f'data-message="{message.id}"' not in triage


def test_specialist_cannot_assign_to_a_prospect_of_another_campaign(
    app: Flask, client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _unmatched(world)
    other = make_world(
        None, None, ["elsewhere.org"], campaign_name="Not mine", mailbox={"name": "bob"}
    )
    client.login(team["specialist"].email)

    assert "elsewhere.org" not in client.get(f"/inbox/messages/{message.id}?q=elsewhere").get_data(
        as_text=True
    )
    response = client.post_form(
        f"/inbox/messages/{message.id}/assign",
        {"prospect_id": str(other.prospects[0].id)},
        page=f"/inbox/messages/{message.id}",
    )
    assert response.status_code == 404


def test_dismissing_takes_a_message_out_of_triage(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _unmatched(world)
    client.login(team["specialist"].email)

    response = client.post_form(
        f"/inbox/messages/{message.id}/dismiss", page=f"/inbox/messages/{message.id}"
    )

    assert response.status_code == 302
    assert f'data-message="{message.id}"' not in client.get("/inbox?tab=triage").get_data(
        as_text=True
    )


def test_newsletters_wait_in_triage_only_when_asked_for(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    raw = reply(None, sender="news@saas.example", subject="Weekly digest", message_id="<n@saas>",
                headers="List-Id: <weekly.saas.example>\r\n")  # fmt: skip
    deliver(world.mailbox, raw)
    client.login(team["manager"].email)

    assert "news@saas.example" not in client.get("/inbox?tab=triage").get_data(as_text=True)
    shown = client.get("/inbox?tab=triage&unrelated=1").get_data(as_text=True)
    assert "news@saas.example" in shown and "List-Id" in shown


def test_notification_count_in_the_nav_and_marking_them_read(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    message = _reply(world)
    client.login(team["specialist"].email)

    nav = client.get("/campaigns").get_data(as_text=True)
    assert re.search(
        r'id="nav-notifications"[^>]*>Notifications <span class="badge bad">1</span>', nav
    )
    listing = client.get("/inbox/notifications").get_data(as_text=True)
    assert "Reply from editor@pmtoolsreview.com on pmtoolsreview.com" in listing
    note = db.session.query(Notification).one()

    opened = client.post_form(f"/inbox/notifications/{note.id}/open", page="/inbox/notifications")

    assert opened.headers["Location"] == f"/inbox/messages/{message.id}"
    nav = client.get("/campaigns").get_data(as_text=True)
    assert 'Notifications <span class="badge' not in nav


def test_opening_the_message_marks_its_notification_read_and_read_all_clears_the_rest(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    first = _reply(world)
    _reply(world, domain=B)
    client.login(team["specialist"].email)

    client.get(f"/inbox/messages/{first.id}")
    assert '<span class="badge bad">1</span>' in client.get("/campaigns").get_data(as_text=True)
    client.post_form("/inbox/notifications/read", page="/inbox/notifications")
    assert "Notifications <span" not in client.get("/campaigns").get_data(as_text=True)


def test_prospect_page_shows_the_thread_in_order(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    _reply(world, body="Thanks, added it today.")
    client.login(team["specialist"].email)
    prospect = world.prospect(A)

    html = client.get(f"/campaigns/{prospect.campaign_id}/prospects/{prospect.id}").get_data(
        as_text=True
    )

    thread = html[html.index('id="thread"') :]
    sent, got = thread.index("sent · step 1"), thread.index("Thanks, added it today.")
    assert sent < got


def test_empty_tabs_say_what_happens_next(client: Any, team: dict[str, Any]) -> None:
    client.login(team["specialist"].email)
    hints = {
        "replies": "after each poll",
        "triage": "Nothing waits for you",
        "bounces": "suppressed automatically",
        "auto": "moves the next touch",
    }
    for tab, words in hints.items():
        assert words in client.get(f"/inbox?tab={tab}").get_data(as_text=True)


def test_inbox_pages_through_many_messages(client: Any, team: dict[str, Any], app: Flask) -> None:
    app.config["PAGE_SIZE"] = 5
    mailbox = make_mailbox(None)
    for n in range(12):
        deliver(mailbox, reply(None, sender=f"p{n}@n{n}.example", subject="Re: x",
                               message_id=f"<m{n}@x>"), uid=n + 1)  # fmt: skip
    manager = UserFactory(role=Role.MANAGER, email="boss@linkgap.example")
    db.session.commit()
    client.login(manager.email)

    page3 = client.get("/inbox?tab=triage&page=3").get_data(as_text=True)

    assert "11–12 of 12" in page3 and page3.count('data-message="') == 2


def test_managers_see_which_mailbox_folders_could_not_be_read(
    client: Any, world: World, team: dict[str, Any]
) -> None:
    from crm.models import MailboxFolder

    error = "2026-11-21 10:00 UTC: IMAP 127.0.0.1:9: login refused"
    db.session.add(
        MailboxFolder(mailbox_id=world.mailbox.id, folder="INBOX", last_uid=0, last_error=error)
    )
    db.session.commit()

    client.login(team["specialist"].email)
    assert "login refused" not in client.get("/inbox").get_data(as_text=True)
    client.post_form("/logout", page="/inbox")
    client.login(team["admin"].email)
    page = client.get("/inbox").get_data(as_text=True)
    assert "Mailbox ana (INBOX) could not be read" in page and "login refused" in page
