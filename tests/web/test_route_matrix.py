"""Every registered route, requested as anonymous, specialist, manager and admin."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for

from tests.web.routes import ROLES, expected_routes, world_builders

EXPECTED = expected_routes()


def test_every_registered_route_has_an_expectation(app: Flask) -> None:
    registered = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(registered - set(EXPECTED))
    stale = sorted(set(EXPECTED) - registered)
    assert not missing, f"add these endpoints to tests/web/routes/<area>.py: {missing}"
    assert not stale, f"these expectations name no route: {stale}"


def _world(team: dict[str, Any]) -> dict[str, Any]:
    world: dict[str, Any] = {
        **team,
        "campaign_id": team["campaign"].id,
        "target": team["target"].id,
    }
    for build in world_builders():
        build(world)
    return world


def _url(app: Flask, endpoint: str, world: dict[str, Any]) -> str:
    expect = EXPECTED[endpoint]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {arg: world[expect.args.get(arg, arg)] for arg in rule.arguments}
    with app.test_request_context():
        url = url_for(endpoint, **values)
    return url + (("?" + expect.query) if expect.query else "")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_route_answers_each_role_as_expected(
    app: Flask, client: Any, team: dict[str, Any], endpoint: str, role: str
) -> None:
    expect = EXPECTED[endpoint]
    world = _world(team)
    url = _url(app, endpoint, world)
    if role != "anon":
        client.login(team[role].email)
    if expect.method == "GET":
        response = client.get(url)
    else:
        token = client.csrf_token("/login")
        response = client.open(url, method=expect.method, data={"csrf_token": token, **expect.data})
    response.close()
    assert response.status_code == expect.status_for(role), (
        f"{expect.method} {url} as {role}: got {response.status_code}"
    )
    if role == "anon" and response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_specialist_gets_403_on_every_route_of_a_campaign_they_are_not_in(
    app: Flask, client: Any, team: dict[str, Any]
) -> None:
    world = _world(team)
    world["campaign_id"] = team["other_campaign"].id
    client.login(team["specialist"].email)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "campaign_id" not in rule.arguments or "GET" not in (rule.methods or ()):
            continue
        try:
            url = _url(app, rule.endpoint, world)
        except KeyError:
            continue
        response = client.get(url)
        assert response.status_code == 403, f"{url}: {response.status_code}"
        checked += 1
    assert checked > 0


# --- object-level cases ----------------------------------------------------------------

# A URL argument naming an object -> the kind in tests/web/campaign_objects.py it names.
OBJECT_ARGS = {
    "prospect_id": "prospect",
    "contact_id": "contact",
    "target_id": "target",
    "mailbox_id": "mailbox",
    "enrollment_id": "enrollment",
    "touch_id": "touch",
    "message_id": "reply",
    "link_id": "link",
    "check_id": "link_check",
    "import_id": "gap_import",
    "change_id": "bulk_change",
}
# Where one argument name means another kind of object.
OBJECT_ARGS_OF = {"reports.delete_rankings": {"import_id": "rank_import"}}
# Ids that are not campaign data: users and the do-not-contact list are admin's and
# manager's pages, a notification is its owner's (tested in tests/web/test_objects.py).
NOT_CAMPAIGN_ARGS = {"user_id", "suppression_id", "notification_id"}

# Ids that arrive in a form field or a query string: (endpoint, method, field, kind).
FIELD_CASES = [
    ("sequences.preview", "POST", "prospect_id", "prospect"),
    ("outbox.enroll_prospect", "POST", "mailbox_id", "mailbox"),
    ("outbox.enroll_prospect", "POST", "contact_id", "contact"),
    ("outbox.enroll_many", "POST", "mailbox_id", "mailbox"),
    ("inbox.assign", "POST", "prospect_id", "prospect"),
    ("links.new", "GET", "message_id", "reply"),
    ("links.new", "GET", "prospect_id", "prospect"),
    ("links.new", "POST", "message_id", "reply"),
]


def _object_world(team: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from crm.extensions import db
    from tests.web.campaign_objects import build_campaign_objects

    world = _world(team)
    theirs = build_campaign_objects(team["other_campaign"], "theirs")
    db.session.commit()
    return world, theirs


def _least_role(expect: Any) -> str | None:
    return next((r for r in ROLES[1:] if expect.status_for(r) != 403), None)


def _request(client: Any, url: str, method: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url)
    token = client.csrf_token("/login")
    return client.open(url, method=method, data={"csrf_token": token, **data})


def _leaks(response: Any) -> bool:
    return "theirs" in response.get_data(as_text=True)


def test_an_object_id_of_another_campaign_in_a_url_gives_404_never_data(
    app: Flask, client: Any, team: dict[str, Any]
) -> None:
    world, theirs = _object_world(team)
    problems: list[str] = []
    checked = 0
    signed_in: str | None = None
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        kinds = {**OBJECT_ARGS, **OBJECT_ARGS_OF.get(rule.endpoint, {})}
        object_args = [a for a in rule.arguments if a in kinds]
        if not object_args:
            assert not (set(rule.arguments) - {"campaign_id"} - NOT_CAMPAIGN_ARGS) or all(
                not a.endswith("_id") for a in rule.arguments - {"campaign_id"}
            ), f"{rule.endpoint}: say in OBJECT_ARGS which object {rule.arguments} names"
            continue
        expect = EXPECTED[rule.endpoint]
        role = _least_role(expect)
        if role is None or (role != "specialist" and "campaign_id" not in rule.arguments):
            continue  # managers and admins may open every campaign's objects
        if signed_in != role:
            if signed_in is not None:
                client.post_form("/logout", page="/campaigns")
            client.login(team[role].email)
            signed_in = role
        for arg in object_args:
            values = {a: world[expect.args.get(a, a)] for a in rule.arguments}
            values[arg] = theirs[kinds[arg]].id
            with app.test_request_context():
                url = url_for(rule.endpoint, **values)
            response = _request(client, url, expect.method, expect.data)
            if response.status_code not in (403, 404) or _leaks(response):
                problems.append(f"{expect.method} {url} as {role}: {response.status_code}")
            checked += 1
    assert not problems, problems
    assert checked >= 30


@pytest.mark.parametrize(("endpoint", "method", "field", "kind"), FIELD_CASES)
def test_an_object_id_of_another_campaign_in_a_form_or_query_gives_404_never_data(
    app: Flask, client: Any, team: dict[str, Any], endpoint: str, method: str, field: str, kind: str
) -> None:
    world, theirs = _object_world(team)
    expect = EXPECTED[endpoint]
    client.login(team["specialist"].email)
    url = _url(app, endpoint, world)
    foreign = str(theirs[kind].id)
    if method == "GET":
        response = client.get(url + ("&" if "?" in url else "?") + f"{field}={foreign}")
    else:
        response = _request(client, url, method, {**expect.data, field: foreign})
    assert response.status_code == 404, f"{endpoint} {field}: {response.status_code}"
    assert not _leaks(response)


def test_the_sequence_editor_lists_only_the_users_campaigns_prospects(
    client: Any, team: dict[str, Any]
) -> None:
    _, theirs = _object_world(team)
    from crm.extensions import db
    from tests.web.campaign_objects import build_campaign_objects

    mine = build_campaign_objects(team["campaign"], "mine")
    for prospect in (mine["prospect"], theirs["prospect"]):
        prospect.angle = "broken-link"
    db.session.commit()
    client.login(team["specialist"].email)
    html = client.get("/sequences/broken-link").get_data(as_text=True)
    assert "mine-prospect.example" in html
    assert "theirs-prospect.example" not in html


def test_a_specialist_gets_403_on_every_route_of_another_campaign_whatever_the_method(
    app: Flask, client: Any, team: dict[str, Any]
) -> None:
    world, theirs = _object_world(team)
    world = {**world, "campaign_id": team["other_campaign"].id}
    client.login(team["specialist"].email)
    problems: list[str] = []
    for rule in app.url_map.iter_rules():
        if "campaign_id" not in rule.arguments:
            continue
        expect = EXPECTED[rule.endpoint]
        kinds = {**OBJECT_ARGS, **OBJECT_ARGS_OF.get(rule.endpoint, {})}
        values = {
            a: theirs[kinds[a]].id if a in kinds else world[expect.args.get(a, a)]
            for a in rule.arguments
        }
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        response = _request(client, url, expect.method, expect.data)
        if response.status_code != 403:
            problems.append(f"{expect.method} {url}: {response.status_code}")
    assert not problems, problems
