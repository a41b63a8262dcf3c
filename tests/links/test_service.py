"""Logging a won link: validation naming the field, nothing saved on bad input, the prospect
won and its sequences stopped, duplicates refused; recording checks and lost links."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.core.errors import UserError
from crm.extensions import db
from crm.links.fetch import Fetched
from crm.links.service import LinkInput, log_won_link, record_check
from crm.links.verdict import Verdict
from crm.models import (
    AnchorType,
    CheckResult,
    EnrollmentState,
    LinkCheck,
    LinkRel,
    LinkState,
    Notification,
    ProspectStatus,
    ReclamationState,
    ReclamationTask,
    StopReason,
    TouchpointKind,
    WonLink,
)
from tests.links.helpers import NOW, LinkWorld, make_link_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(db: Any) -> LinkWorld:
    return make_link_world()


def data(world: LinkWorld, **changes: Any) -> LinkInput:
    values: dict[str, Any] = {
        "source_url": "https://blog.example/best-gantt-templates",
        "target_url": world.target_url,
        "anchor": "gantt chart template",
        "rel": "dofollow",
        "placed_on": "2026-10-30",
    }
    values.update(changes)
    return LinkInput(**values)


def test_logging_a_link_makes_the_prospect_won_and_stops_its_sequences(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world), actor=world.user, now=NOW)
    db.session.commit()
    assert link.state == LinkState.UNCHECKED and link.target_page_id == world.target.id
    assert link.anchor_type == AnchorType.EXACT  # the suggestion: a topic of the target page
    assert link.logged_by_id == world.user.id and link.placed_on == date(2026, 10, 30)
    assert world.prospect.status == ProspectStatus.WON
    (enrollment,) = world.enrollments()
    assert enrollment.state == EnrollmentState.STOPPED and enrollment.stop_reason == StopReason.WON
    kinds = [t.kind for t in world.prospect.touchpoints]
    assert TouchpointKind.LINK_WON in kinds and TouchpointKind.STATUS_CHANGE in kinds
    won = next(t for t in world.prospect.touchpoints if t.kind == TouchpointKind.LINK_WON)
    assert "gantt chart template" in won.summary and won.data == {"won_link_id": link.id}


def test_the_person_can_change_the_suggested_anchor_type(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world, anchor_type="partial"), actor=None, now=NOW)
    assert link.anchor_type == AnchorType.PARTIAL


def test_a_subdomain_of_the_prospect_is_a_valid_source(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world, source_url="http://news.blog.example/p"),
                        actor=None, now=NOW)  # fmt: skip
    assert link.source_url == "http://news.blog.example/p"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"source_url": "https://elsewhere.example/p"}, "source_url",
         "elsewhere.example is not on blog.example"),
        ({"source_url": "ftp://blog.example/p"}, "source_url", "only http and https"),
        ({"source_url": "blog post"}, "source_url", "not a URL"),
        ({"target_url": "https://rival-a.com/gantt"}, "target_url",
         "rival-a.com is outside our site sample-site.example"),
        ({"target_url": "not a url"}, "target_url", "not a URL"),
        ({"anchor_type": "keyword"}, "anchor_type", "unknown 'keyword'"),
        ({"rel": "follow"}, "rel", "unknown 'follow'"),
        ({"placed_on": "2030-01-01"}, "placed_on", "in the future"),
        ({"placed_on": "30/10/2026"}, "placed_on", "not a date"),
        ({"anchor": "", "anchor_type": "exact"}, "anchor", "enter the link's text"),
        ({"anchor": "x" * 501}, "anchor", "longer than 500"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_saved(
    world: LinkWorld, changes: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(UserError) as err:
        log_won_link(world.prospect, data(world, **changes), actor=None, now=NOW)
    db.session.rollback()
    assert err.value.field == field and words in err.value.message
    assert "\n" not in err.value.message
    assert db.session.scalar(select(func.count()).select_from(WonLink)) == 0
    assert world.prospect.status != ProspectStatus.WON


def test_logging_the_same_source_and_target_twice_is_refused(world: LinkWorld) -> None:
    first = log_won_link(world.prospect, data(world), actor=None, now=NOW)
    db.session.commit()
    again = data(world, source_url="http://www.blog.example/best-gantt-templates/",
                 target_url=world.target_url.replace("https://", "http://www."))  # fmt: skip
    with pytest.raises(UserError) as err:
        log_won_link(world.prospect, again, actor=None, now=NOW)
    assert err.value.field == "source_url" and f"link {first.id}" in err.value.message
    other_page = log_won_link(world.prospect, data(world, source_url="https://blog.example/b"),
                              actor=None, now=NOW)  # fmt: skip
    assert other_page.id != first.id


def test_a_placed_date_that_is_today_somewhere_is_not_future(world: LinkWorld) -> None:
    tomorrow_utc = (NOW + timedelta(hours=13)).date()
    link = log_won_link(world.prospect, data(world, placed_on=tomorrow_utc.isoformat()),
                        actor=None, now=NOW)  # fmt: skip
    assert link.placed_on == tomorrow_utc


def _verdict(result: CheckResult, reason: str = "r", **kw: Any) -> Verdict:
    return Verdict(result, reason, **kw)


def _fetched(status: int | None = 200) -> Fetched:
    return Fetched(url="https://blog.example/p", status=status, final_url="https://blog.example/p")


def test_two_misses_in_a_row_make_a_link_lost_with_a_reclamation_task(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world), actor=world.user, now=NOW)
    found = _verdict(CheckResult.FOUND, "link found", actual_anchor="gantt chart template",
                     actual_rel=LinkRel.DOFOLLOW, html="<html>ok</html>")  # fmt: skip
    record_check(link, _fetched(), found, now=NOW)
    assert link.state == LinkState.LIVE
    record_check(link, _fetched(), _verdict(CheckResult.MISSING, "no link", html="<p>"), now=NOW)
    assert link.state == LinkState.LIVE and link.consecutive_misses == 1
    assert "1 of 2 checks before lost" in link.last_check_summary
    record_check(link, _fetched(403), _verdict(CheckResult.INCONCLUSIVE, "HTTP 403"), now=NOW)
    assert link.state == LinkState.INCONCLUSIVE and link.consecutive_misses == 1
    record_check(link, _fetched(404), _verdict(CheckResult.GONE, "HTTP 404"), now=NOW)
    db.session.commit()
    assert link.state == LinkState.LOST and link.consecutive_misses == 2
    (task,) = db.session.scalars(select(ReclamationTask)).all()
    assert task.state == ReclamationState.OPEN and task.won_link_id == link.id
    assert any(t.kind == TouchpointKind.LINK_LOST for t in world.prospect.touchpoints)
    note = db.session.scalar(select(Notification).where(Notification.user_id == world.user.id))
    assert note is not None and "Link lost on blog.example" in note.text
    # Blocked afterwards: still lost, no second task; found again: live, task resolved.
    record_check(link, _fetched(403), _verdict(CheckResult.INCONCLUSIVE, "HTTP 403"), now=NOW)
    assert link.state == LinkState.LOST
    record_check(link, _fetched(), found, now=NOW)
    db.session.commit()
    assert link.state == LinkState.LIVE and task.state == ReclamationState.RESOLVED


def test_blocked_checks_never_make_a_link_lost(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world), actor=None, now=NOW)
    for _ in range(5):
        record_check(link, _fetched(403), _verdict(CheckResult.INCONCLUSIVE, "HTTP 403"), now=NOW)
    assert link.state == LinkState.INCONCLUSIVE and link.consecutive_misses == 0


def test_the_campaign_sets_how_many_misses_make_a_link_lost(world: LinkWorld) -> None:
    world.campaign.settings = {"links": {"lost_after": 3}}
    link = log_won_link(world.prospect, data(world), actor=None, now=NOW)
    for _ in range(2):
        record_check(link, _fetched(404), _verdict(CheckResult.GONE), now=NOW)
    assert link.state == LinkState.UNCHECKED
    record_check(link, _fetched(404), _verdict(CheckResult.GONE), now=NOW)
    assert link.state == LinkState.LOST


def test_old_found_pages_are_pruned_and_misses_keep_theirs(world: LinkWorld) -> None:
    link = log_won_link(world.prospect, data(world), actor=None, now=NOW)
    record_check(link, _fetched(), _verdict(CheckResult.MISSING, html="<p>missing</p>"), now=NOW)
    for i in range(7):
        record_check(link, _fetched(), _verdict(CheckResult.FOUND, html=f"<p>{i}</p>"),
                     now=NOW + timedelta(hours=i + 1))  # fmt: skip
    kept = db.session.execute(
        select(LinkCheck.result, LinkCheck.html_zlib.is_not(None)).order_by(LinkCheck.id)
    ).all()
    assert [k for _, k in kept] == [True, False, False, True, True, True, True, True]


def test_a_link_saved_twice_at_once_is_refused_by_the_database_too(
    world: LinkWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.links import service

    log_won_link(world.prospect, data(world), actor=None, now=NOW)
    db.session.commit()
    # The other request looked for a duplicate before this one saved.
    monkeypatch.setattr(service, "find_duplicate", lambda *a, **k: None)
    with pytest.raises(UserError) as err:
        log_won_link(world.prospect, data(world), actor=None, now=NOW)
    assert err.value.field == "source_url" and "already logged" in err.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WonLink)) == 1


def test_a_check_of_a_page_whose_headers_hold_nul_characters_is_stored(world: LinkWorld) -> None:
    # Seen from a real page on 127.0.0.1: the content type and X-Robots-Tag keep a NUL.
    link = log_won_link(world.prospect, data(world), actor=world.user, now=NOW)
    fetched = Fetched(url="https://blog.example/p", status=200, final_url="https://blog.example/p",
                      content_type="text/html; charset=utf-8\x00x")  # fmt: skip
    found = _verdict(CheckResult.FOUND, "link found", actual_anchor="gantt\x00 chart",
                     actual_rel=LinkRel.NOFOLLOW, robots=("noindex\x00",))  # fmt: skip
    check = record_check(link, fetched, found, now=NOW)
    db.session.commit()
    assert check.content_type == "text/html; charset=utf-8\ufffdx"
    assert (check.actual_anchor, check.robots) == ("gantt\ufffd chart", "noindex\ufffd")
    assert link.state == LinkState.LIVE


def test_a_check_of_a_page_with_overlong_headers_is_stored_cut_to_its_columns(
    world: LinkWorld,
) -> None:
    # A page's redirect target, X-Robots-Tag and charset are as long as it likes.
    link = log_won_link(world.prospect, data(world), actor=world.user, now=NOW)
    long_url = "https://blog.example/" + "a" * 3000
    fetched = Fetched(url="https://blog.example/p", status=200, final_url=long_url)
    found = _verdict(CheckResult.FOUND, "link found", actual_anchor="gantt chart",
                     robots=("noindex",) * 60, charset="x" * 60)  # fmt: skip
    check = record_check(link, fetched, found, now=NOW)
    db.session.commit()
    assert check.final_url == long_url[:2048]
    assert len(check.robots) == 200 and len(check.charset) == 40
