"""One pass of the link checker against real pages: states, lost links, blocked pages,
a failing host among good ones, and the same pass through a forward proxy."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.links.checker import run_verify_pass
from crm.links.service import LinkInput, log_won_link
from crm.models import LinkCheck, LinkState, ReclamationTask, WonLink
from tests.fixtures.links import ForwardProxy, Page, PageServer
from tests.links.helpers import NOW, LinkWorld, make_link_world, page_with, source

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(db: Any) -> LinkWorld:
    return make_link_world()


def log(world: LinkWorld, url: str, **changes: Any) -> WonLink:
    values = {"source_url": url, "target_url": world.target_url,
              "anchor": "gantt chart template", **changes}  # fmt: skip
    link = log_won_link(world.prospect, LinkInput(**values), actor=world.user, now=NOW)
    db.session.commit()
    return link


def states() -> dict[str, str]:
    db.session.expire_all()
    return {link.source_url.rsplit("/", 1)[1]: link.state.value
            for link in db.session.scalars(select(WonLink))}  # fmt: skip


def test_a_pass_checks_every_link_and_counts_the_states(
    app: Flask, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/live"] = Page(page_with(world.target_url))
    pages.routes["/blocked"] = Page("no bots", status=403)
    pages.routes["/removed"] = Page(page_with("https://sample-site.example/other"))
    for name in ("live", "blocked", "removed"):
        log(world, source(pages, f"/{name}"))

    counts = run_verify_pass()

    assert counts == {"checked": 3, "live": 1, "lost": 0, "inconclusive": 1, "unchecked": 1,
                      "errors": 0}  # fmt: skip
    assert states() == {"live": "live", "blocked": "inconclusive", "removed": "unchecked"}
    run_verify_pass()
    assert states() == {"live": "live", "blocked": "inconclusive", "removed": "lost"}
    assert db.session.scalar(select(ReclamationTask.won_link_id)) is not None


def test_removing_the_link_turns_it_lost_after_two_checks_and_a_403_never_does(
    app: Flask, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/post"] = Page(page_with(world.target_url))
    link = log(world, source(pages, "/post"))
    run_verify_pass()
    assert states()["post"] == "live"
    pages.routes["/post"] = Page("forbidden", status=403)
    for _ in range(3):
        run_verify_pass()
    assert states()["post"] == "inconclusive"
    pages.routes["/post"] = Page(page_with("https://sample-site.example/elsewhere"))
    run_verify_pass()
    assert states()["post"] == "inconclusive"
    run_verify_pass()
    assert states()["post"] == "lost"
    checks = db.session.scalars(
        select(LinkCheck).where(LinkCheck.won_link_id == link.id).order_by(LinkCheck.id)
    ).all()
    assert [c.result.value for c in checks] == ["found"] + ["inconclusive"] * 3 + ["missing"] * 2
    assert checks[-1].html_zlib is not None and checks[1].http_status == 403


def test_one_failing_host_never_stops_the_others(
    app: Flask, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/slow"] = Page(page_with(world.target_url), delay=2)
    pages.routes["/ok"] = Page(page_with(world.target_url))
    log(world, "http://news.blog.example:9/refused")  # nothing listens on port 9
    log(world, source(pages, "/slow", "www.blog.example"))
    log(world, source(pages, "/ok"))

    counts = run_verify_pass()

    assert counts["checked"] == 3 and counts["live"] == 1 and counts["inconclusive"] == 2
    reasons = sorted(c.reason for c in db.session.scalars(select(LinkCheck)))
    assert reasons[0].startswith("could not connect to news.blog.example"), reasons
    assert reasons[1] == "link found" and reasons[2].startswith("timed out")


def test_a_check_that_cannot_be_recorded_is_an_error_and_the_pass_records_the_others(
    app: Flask, world: LinkWorld, pages: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crm.links.checker

    real = crm.links.checker.record_check

    def broken_for_odd(link: WonLink, *args: Any, **kwargs: Any) -> Any:
        if link.source_url.endswith("/odd"):
            raise RuntimeError("cannot record this one")  # a bug in one check, injected
        return real(link, *args, **kwargs)

    monkeypatch.setattr(crm.links.checker, "record_check", broken_for_odd)
    for name in ("odd", "ok"):
        pages.routes[f"/{name}"] = Page(page_with(world.target_url))
        log(world, source(pages, f"/{name}"))

    counts = run_verify_pass()

    assert counts["errors"] == 1 and counts["checked"] == 1 and counts["live"] == 1
    assert states() == {"odd": "unchecked", "ok": "live"}


def test_the_pass_goes_through_the_proxy_with_the_private_switch_off(
    app: Flask, world: LinkWorld, pages: PageServer, forward_proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    pages.routes["/post"] = Page(page_with(world.target_url, rel="sponsored"))
    link = log(world, source(pages, "/post"))
    app.config["LINKS_ALLOW_PRIVATE"] = "0"
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)

    run_verify_pass()

    db.session.expire_all()
    assert link.state == LinkState.LIVE and link.rel_mismatch
    check = db.session.scalar(select(LinkCheck))
    assert check is not None and check.via_proxy and forward_proxy.seen
    monkeypatch.delenv("HTTP_PROXY")
    run_verify_pass()
    db.session.expire_all()
    assert link.state == LinkState.INCONCLUSIVE and "refused to connect" in link.last_check_summary
