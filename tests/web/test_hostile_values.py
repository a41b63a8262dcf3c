"""Every query and form value a route reads, sent hostile: the answer is never a 500.

The values a view reads are found by asking it: a request class whose query and
form dicts note each key looked up. Each key is then sent with each hostile value
(and any key that request reads in turn is tried too).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask, Request, url_for
from werkzeug.datastructures import ImmutableMultiDict

from tests.web.routes import ROLES
from tests.web.test_route_matrix import EXPECTED, _url, _world

pytestmark = pytest.mark.postgres

HOSTILE = [
    "²",  # str.isdigit() says yes, int() says no
    "3000000000",  # past a 32-bit INTEGER column
    "9" * 30,  # past every database's integer
    "1" * 5000,  # past Python's own int() limit
    "-7",
    "a\x00b",  # PostgreSQL refuses NUL in text
    "nan",
    "1e309",
]
MAX_KEYS = 40


class _RecordingDict(ImmutableMultiDict):  # type: ignore[type-arg]
    read: set[str] = set()

    def __getitem__(self, key: Any) -> Any:
        _RecordingDict.read.add(str(key))
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _RecordingDict.read.add(str(key))
        return super().__contains__(key)

    def getlist(self, key: Any, type: Any = None) -> Any:
        _RecordingDict.read.add(str(key))
        return super().getlist(key, type)


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingDict


def _role(endpoint: str) -> str | None:
    expect = EXPECTED[endpoint]
    return next((r for r in reversed(ROLES[1:]) if expect.status_for(r) not in (403, 404)), None)


def _rule_of(app: Flask, endpoint: str) -> Any:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _send(client: Any, expect: Any, url: str, values: dict[str, Any]) -> int:
    """Send `values` as the route's query (GET) or form (else); note the keys it reads."""
    path = url.partition("?")[0]
    if expect.method == "GET":
        _RecordingDict.read = set()
        response = client.get(f"{path}?{urlencode(values)}" if values else path)
    else:
        token = client.csrf_token("/login")
        _RecordingDict.read = set()
        response = client.open(url, method=expect.method, data={"csrf_token": token, **values})
    response.close()
    return int(response.status_code)


# Routes some signed-in role may open (the demo's sandbox pages are open to none here).
OPEN_ENDPOINTS = [e for e in sorted(EXPECTED) if _role(e) is not None]


@pytest.mark.parametrize("endpoint", OPEN_ENDPOINTS)
def test_no_hostile_query_or_form_value_makes_a_route_answer_500(
    app: Flask, client: Any, team: dict[str, Any], endpoint: str
) -> None:
    expect = EXPECTED[endpoint]
    role = _role(endpoint)
    assert role is not None
    app.request_class = _RecordingRequest
    world = _world(team)
    url = _url(app, endpoint, world)
    path, _, query = url.partition("?")
    base = dict(parse_qsl(query)) if expect.method == "GET" else dict(expect.data)
    client.login(team[role].email)

    arguments = _rule_of(app, endpoint).arguments
    for arg in arguments:
        for too_big in (3_000_000_000, 10**30):
            values = {a: world[expect.args.get(a, a)] for a in arguments}
            with app.test_request_context():
                hostile_url = url_for(endpoint, **{**values, arg: too_big})
            path_status = _send(client, expect, hostile_url, base)
            assert path_status < 500, f"{expect.method} {hostile_url}: {path_status}"

    _send(client, expect, url, base)
    todo = sorted(_RecordingDict.read - {"csrf_token"})
    tried: set[str] = set()
    problems = []
    while todo and len(tried) < MAX_KEYS:
        key = todo.pop()
        tried.add(key)
        for bad in HOSTILE:
            status = _send(client, expect, url, {**base, key: bad})
            if status >= 500:
                problems.append(f"{key}={bad[:12]!r}: {status}")
            todo += sorted(_RecordingDict.read - tried - set(todo) - {"csrf_token"})
    assert not problems, f"{expect.method} {path} as {role}: {problems}"
