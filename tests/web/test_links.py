"""The Links pages driven through real forms (CSRF on): logging a link from the form and
from a reply, errors next to the field, the stored page shown as text, filters, CSV, the
risk panel, thresholds, and objects of another campaign never reachable."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import (
    AnchorType,
    InboundKind,
    InboundMessage,
    LinkCheck,
    LinkState,
    OneOffMessage,
    ProspectStatus,
    ReclamationState,
    ReclamationTask,
    ReplyOutcome,
    TouchState,
    WonLink,
)
from crm.models.base import utcnow
from tests.factories import CampaignFactory, ProspectFactory
from tests.fixtures.links import Page, PageServer
from tests.links.helpers import LINK_SETTINGS, LinkWorld, make_link_world, page_with, source


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **LINK_SETTINGS}


@pytest.fixture
def world(db: Any) -> LinkWorld:
    return make_link_world()


def form(world: LinkWorld, url: str, **changes: str) -> dict[str, str]:
    return {"prospect": "blog.example", "source_url": url, "target_url": world.target_url,
            "anchor": "gantt chart template", "anchor_type": "", "rel": "dofollow",
            "placed_on": "", "note": "", **changes}  # fmt: skip


def new_url(world: LinkWorld) -> str:
    return f"/campaigns/{world.campaign.id}/links/new"


def test_logging_from_the_form_checks_the_page_at_once(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/post"] = Page(page_with(world.target_url))
    client.login(world.user.email)
    response = client.post_form(new_url(world), form(world, source(pages, "/post")))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "link found" in page and "state-live" in page
    link = db.session.scalar(select(WonLink))
    assert link is not None and link.state == LinkState.LIVE
    assert world.prospect.status == ProspectStatus.WON


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"source_url": "https://elsewhere.example/p"}, "elsewhere.example is not on blog.example"),
        ({"target_url": "https://rival-a.com/x"}, "outside our site sample-site.example"),
        ({"placed_on": "2999-01-01"}, "is in the future"),
        ({"anchor_type": "shouty"}, "anchor type: unknown"),
        ({"rel": "follow"}, "rel: unknown"),
        ({"prospect": "nobody.example"}, "prospect: no prospect nobody.example"),
    ],
)
def test_bad_input_comes_back_next_to_its_field_and_nothing_is_saved(
    app: Flask, client: Any, world: LinkWorld, changes: dict[str, str], words: str
) -> None:
    client.login(world.user.email)
    response = client.post_form(new_url(world), form(world, "https://blog.example/p", **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and words in html
    assert db.session.scalar(select(func.count()).select_from(WonLink)) == 0


def test_logging_from_a_reply_marks_it_positive_in_one_step(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    from crm.models import Mailbox

    mailbox = db.session.scalar(select(Mailbox))
    assert mailbox is not None
    message = InboundMessage(
        mailbox_id=mailbox.id, message_id="<yes@blog.example>", kind=InboundKind.HUMAN_REPLY,
        from_address="editor@blog.example", subject="Re: your guide",
        snippet="Added your template to our list!", prospect_id=world.prospect.id,
        match_method="in_reply_to",
    )  # fmt: skip
    db.session.add(message)
    db.session.commit()
    pages.routes["/list"] = Page(page_with(world.target_url))
    client.login(world.user.email)
    url = f"{new_url(world)}?message_id={message.id}"
    shown = client.get(url).get_data(as_text=True)
    assert "Added your template to our list!" in shown and 'value="blog.example"' in shown
    response = client.post_form(url, {**form(world, source(pages, "/list")),
                                      "message_id": str(message.id)})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert message.outcome == ReplyOutcome.POSITIVE
    link = db.session.scalar(select(WonLink))
    assert link is not None and link.inbound_message_id == message.id


def test_the_stored_page_is_shown_as_text_never_as_live_html(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/post"] = Page(page_with(world.target_url) + "<script>alert('x')</script>")
    client.login(world.user.email)
    client.post_form(new_url(world), form(world, source(pages, "/post")))
    link = db.session.scalar(select(WonLink))
    check = db.session.scalar(select(LinkCheck))
    assert link is not None and check is not None
    page = client.get(f"/campaigns/{world.campaign.id}/links/{link.id}/checks/{check.id}")
    html = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_a_link_or_check_of_another_campaign_is_not_found_through_mine(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    other = CampaignFactory(name="Elsewhere", members=[world.user])
    stranger = ProspectFactory(campaign=other, domain="stranger.example")
    db.session.commit()
    client.login(world.user.email)
    pages.routes["/post"] = Page(page_with(world.target_url))
    client.post_form(new_url(world), form(world, source(pages, "/post")))
    link = db.session.scalar(select(WonLink))
    check = db.session.scalar(select(LinkCheck))
    assert link is not None and check is not None
    base = f"/campaigns/{other.id}"
    assert client.get(f"{base}/links/{link.id}").status_code == 404
    assert client.get(f"{base}/links/{link.id}/checks/{check.id}").status_code == 404
    assert (
        client.get(
            f"/campaigns/{world.campaign.id}/links/new?prospect_id={stranger.id}"
        ).status_code
        == 404
    )
    token = client.csrf_token("/links")
    assert (
        client.post(f"{base}/links/{link.id}/check", data={"csrf_token": token}).status_code == 404
    )


def test_the_links_page_filters_exports_csv_and_shows_the_risk_panel(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/a"] = Page(page_with(world.target_url))
    pages.routes["/b"] = Page("blocked", status=403)
    client.login(world.user.email)
    client.post_form(new_url(world), form(world, source(pages, "/a")))
    client.post_form(new_url(world), form(world, source(pages, "/b"), anchor="=cmd|x"))
    page = client.get(f"/links?campaign={world.campaign.id}").get_data(as_text=True)
    assert "Anchor mix and velocity" in page and "Exact-match anchors are" in page
    live = client.get(f"/links?campaign={world.campaign.id}&state=live").get_data(as_text=True)
    assert "/a" in live and "HTTP 403" not in live
    csv = client.get(f"/links/export.csv?campaign={world.campaign.id}").get_data(as_text=True)
    lines = csv.strip().splitlines()
    assert len(lines) == 3 and "'=cmd|x" in csv


def test_the_form_preview_warns_before_saving(app: Flask, client: Any, world: LinkWorld) -> None:
    client.login(world.user.email)
    url = (f"/campaigns/{world.campaign.id}/links/preview?anchor=gantt+chart+template"
           f"&target_url={world.target_url}&anchor_type=")  # fmt: skip
    html = client.get(url).get_data(as_text=True)
    assert "Suggested anchor type: exact" in html
    assert "Exact-match anchors would be 100%" in html


def test_a_manager_sets_the_thresholds_and_bad_values_name_the_field(
    app: Flask, client: Any, world: LinkWorld
) -> None:
    from tests.links.helpers import another_user

    boss = another_user()
    db.session.commit()
    client.login(boss.email)
    url = f"/campaigns/{world.campaign.id}/links/settings"
    values = {"lost_after": "3", "exact_share_max": "20", "dominant_share_max": "50",
              "dominant_min_links": "5", "velocity_factor": "2.5", "velocity_weeks": "8",
              "velocity_min_links": "3"}  # fmt: skip
    bad = client.post_form(url, {**values, "lost_after": "many"})
    assert bad.status_code == 422 and "not a number" in bad.get_data(as_text=True)
    assert client.post_form(url, values).status_code == 302
    db.session.expire_all()
    assert world.campaign.settings["links"]["exact_share_max"] == pytest.approx(0.2)
    assert world.campaign.settings["links"]["lost_after"] == 3


def test_editing_a_link_fixes_a_typo_and_a_new_source_is_checked_again(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/a"] = Page(page_with(world.target_url))
    pages.routes["/b"] = Page("gone", status=404)
    client.login(world.user.email)
    client.post_form(new_url(world), form(world, source(pages, "/a")))
    link = db.session.scalar(select(WonLink))
    assert link is not None and link.state == LinkState.LIVE
    url = f"/campaigns/{world.campaign.id}/links/{link.id}/edit"
    bad = client.post_form(url, form(world, "https://elsewhere.example/a"))
    assert bad.status_code == 422 and "is not on blog.example" in bad.get_data(as_text=True)
    assert client.post_form(url, form(world, source(pages, "/a"), note="fixed")).status_code == 302
    db.session.expire_all()
    assert link.note == "fixed" and link.state == LinkState.LIVE
    assert client.post_form(url, form(world, source(pages, "/b"))).status_code == 302
    db.session.expire_all()
    assert link.state == LinkState.UNCHECKED and link.consecutive_misses == 1


def test_only_a_manager_deletes_a_link(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    from tests.links.helpers import another_user

    boss = another_user()
    db.session.commit()
    pages.routes["/a"] = Page(page_with(world.target_url))
    client.login(world.user.email)
    client.post_form(new_url(world), form(world, source(pages, "/a")))
    link = db.session.scalar(select(WonLink))
    assert link is not None
    url = f"/campaigns/{world.campaign.id}/links/{link.id}/delete"
    page = f"/campaigns/{world.campaign.id}/links/{link.id}"
    assert client.post_form(url, page=page).status_code == 403
    client.post_form("/logout", page=page)
    client.login(boss.email)
    assert client.post_form(url, page=page).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(WonLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(LinkCheck)) == 0


def _known_pages(world: LinkWorld, pages: PageServer, *paths: str) -> None:
    """Make these pages of `pages` the prospect's only known pages (its evidence)."""
    from crm.models import Evidence

    db.session.query(Evidence).delete()
    db.session.add_all(
        Evidence(prospect_id=world.prospect.id, site="rival-a.com", page_url=source(pages, path))
        for path in paths
    )
    db.session.commit()


def test_unlinked_mentions_are_found_for_chosen_prospects_and_the_angle_suggested(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    from crm.models import UnlinkedMention

    _known_pages(world, pages, "/m", "/l")
    pages.routes["/m"] = Page("<p>Intro. We use Sample Site for our charts. More text.</p>")
    pages.routes["/l"] = Page(
        '<p>See <a href="https://sample-site.example/">sample-site.example</a>.</p>'
    )
    client.login(world.user.email)
    response = client.post_form(f"/campaigns/{world.campaign.id}/links/mentions",
                                {"domains": "blog.example"}, page="/links")  # fmt: skip
    assert response.status_code == 302
    rows = {m.url.rsplit("/", 1)[1]: m for m in db.session.query(UnlinkedMention)}
    assert rows["m"].unlinked and rows["m"].sentence == "We use Sample Site for our charts."
    assert not rows["l"].unlinked and "already links" in rows["l"].detail
    page = client.get(f"/campaigns/{world.campaign.id}/prospects/{world.prospect.id}")
    html = page.get_data(as_text=True)
    assert "mentions us, no link" in html and "Use the unlinked mention angle" in html


def _lost_link_with_a_sent_thread(world: LinkWorld) -> WonLink:
    (enrollment,) = world.enrollments()
    first = min(enrollment.touches, key=lambda t: t.step)
    first.state, first.sent_at = TouchState.SENT, utcnow()
    first.subject = first.subject or "Your gantt chart page"
    link = WonLink(
        campaign_id=world.campaign.id, prospect_id=world.prospect.id,
        source_url="https://blog.example/best-gantt-templates", target_url=world.target_url,
        anchor_type=AnchorType.EXACT, placed_on=date(2026, 11, 20), state=LinkState.LOST,
    )  # fmt: skip
    db.session.add(link)
    db.session.flush()
    db.session.add(
        ReclamationTask(campaign_id=world.campaign.id, prospect_id=world.prospect.id, won_link=link)
    )
    db.session.commit()
    return link


def test_a_lost_links_follow_up_is_edited_on_the_link_page_and_queued_once(
    app: Flask, client: Any, world: LinkWorld
) -> None:
    link = _lost_link_with_a_sent_thread(world)
    url = f"/campaigns/{world.campaign.id}/links/{link.id}"
    client.login(world.user.email)
    page = client.get(url).get_data(as_text=True)
    assert 'id="follow-up-form"' in page and "editor@blog.example" in page
    assert "no longer on the page" in page  # the written draft, ready to edit

    edited = "Hi Ed, the gantt link went missing in your last update. Could you add it back?"
    response = client.post_form(f"{url}/reclaim", {"body": edited}, page=url)
    assert response.status_code == 302
    (message,) = db.session.scalars(select(OneOffMessage)).all()
    assert message.body == edited and message.to_email == "editor@blog.example"
    assert message.in_reply_to and message.subject.startswith("Re: ")
    task = db.session.scalar(select(ReclamationTask))
    assert task is not None and task.state == ReclamationState.SENT
    assert task.one_off_id == message.id

    page = client.get(url).get_data(as_text=True)
    assert 'id="follow-up-form"' not in page and "Follow-up to editor@blog.example" in page
    again = client.post(
        f"{url}/reclaim", data={"body": edited, "csrf_token": client.csrf_token(url)}
    )
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OneOffMessage)) == 1


@pytest.mark.postgres
def test_a_mention_on_a_page_holding_nul_characters_is_stored(
    app: Flask, client: Any, world: LinkWorld, pages: PageServer
) -> None:
    from crm.models import UnlinkedMention

    _known_pages(world, pages, "/m", "/r")
    pages.routes["/m"] = Page("<p>Intro. We use Sample Site\x00 for our charts. More.</p>")

    def odd_redirect(handler: Any) -> None:  # a Location no URL can be: the problem quotes it
        handler.wfile.write(b"HTTP/1.1 302 Found\r\nLocation: ftp://x\x00y/\r\n"
                            b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip
        handler.close_connection = True

    pages.routes["/r"] = odd_redirect
    client.login(world.user.email)
    response = client.post_form(f"/campaigns/{world.campaign.id}/links/mentions",
                                {"domains": "blog.example"}, page="/links")  # fmt: skip
    assert response.status_code == 302
    rows = {m.url.rsplit("/", 1)[1]: m for m in db.session.query(UnlinkedMention)}
    assert rows["m"].unlinked and "\x00" not in rows["m"].sentence
    assert rows["r"].detail.startswith("could not read the page") and "\x00" not in rows["r"].detail
