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
