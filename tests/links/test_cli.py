"""`crm links add/list/checks`, `crm verify-links` and `won_links` in `crm prospects show`,
run as a script would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from crm.extensions import db
from crm.models import ProspectStatus
from tests.fixtures.links import Page, PageServer
from tests.links.helpers import LinkWorld, make_link_world, page_with, source

pytestmark = pytest.mark.postgres


def crm(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result


@pytest.fixture
def world(db: Any) -> LinkWorld:
    return make_link_world()


def add(app: Flask, world: LinkWorld, url: str, *extra: str) -> Any:
    return crm(app, "links", "add", world.campaign.name, "blog.example", "--source-url", url,
               "--target-url", world.target_url, "--anchor", "Sample Site", *extra)  # fmt: skip


def test_links_add_logs_checks_at_once_and_prospects_show_carries_it(
    app: Flask, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/post"] = Page(page_with(world.target_url, anchor="Sample Site"))
    result = add(
        app, world, source(pages, "/post"), "--placed-on", "2026-10-01", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    link = json.loads(result.stdout)
    assert link["state"] == "live" and link["anchor_type"] == "branded"
    assert link["last_check"] == "link found"
    assert world.prospect.status == ProspectStatus.WON

    shown = crm(app, "prospects", "show", world.campaign.name, "blog.example", "--format", "json")
    (won,) = json.loads(shown.stdout)["won_links"]
    assert {k: won[k] for k in ("source_url", "target_url", "anchor", "anchor_type", "rel",
                                "placed_on", "state")} == {
        "source_url": source(pages, "/post"), "target_url": world.target_url,
        "anchor": "Sample Site", "anchor_type": "branded", "rel": "dofollow",
        "placed_on": "2026-10-01", "state": "live",
    }  # fmt: skip


def test_links_add_refuses_bad_input_in_one_line_and_saves_nothing(
    app: Flask, world: LinkWorld
) -> None:
    result = add(app, world, "https://elsewhere.example/post", "--no-check")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: source URL: elsewhere.example is not on blog.example, the prospect's domain "
        "(or one of its subdomains)"
    ]
    assert "Traceback" not in result.output
    listed = crm(app, "links", "list", world.campaign.name, "--format", "json")
    assert json.loads(listed.stdout) == []
    future = add(app, world, "https://blog.example/p", "--placed-on", "2999-01-01", "--no-check")
    assert future.exit_code == 1 and "placed date: 2999-01-01 is in the future" in future.stderr


def test_verify_links_prints_the_counts_and_links_list_filters_by_state(
    app: Flask, world: LinkWorld, pages: PageServer
) -> None:
    pages.routes["/a"] = Page(page_with(world.target_url, anchor="Sample Site"))
    pages.routes["/b"] = Page("blocked", status=429)
    assert add(app, world, source(pages, "/a"), "--no-check").exit_code == 0
    assert add(app, world, source(pages, "/b"), "--no-check").exit_code == 0

    result = crm(app, "verify-links", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "checked": 2,
        "live": 1,
        "lost": 0,
        "inconclusive": 1,
        "unchecked": 0,
        "errors": 0,
    }
    live = crm(app, "links", "list", world.campaign.name, "--state", "live", "--format", "json")
    assert [x["source_url"] for x in json.loads(live.stdout)] == [source(pages, "/a")]
    table = crm(app, "verify-links")
    assert table.stdout.startswith("checked 2: 1 live, 0 lost, 1 inconclusive")
    checks = crm(app, "links", "checks", str(json.loads(live.stdout)[0]["id"]), "--format", "json")
    assert [c["result"] for c in json.loads(checks.stdout)] == ["found", "found"]
    no_such = crm(app, "links", "checks", "3000000000")  # past any id: a usage error, no traceback
    assert no_such.exit_code == 2 and "is not in the range" in no_such.stderr


def test_links_list_csv_escapes_formula_cells(app: Flask, world: LinkWorld) -> None:
    assert (
        add(app, world, "https://blog.example/p", "--no-check", "--note", "=HYPERLINK(1)").exit_code
        == 0
    )
    result = crm(app, "links", "list", world.campaign.name, "--format", "csv")
    header, row = result.stdout.strip().splitlines()
    assert header.startswith("id,campaign,prospect,source_url")
    assert row.endswith(",'=HYPERLINK(1)")
