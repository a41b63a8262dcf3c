"""The one-click unsubscribe endpoint: public, GET changes nothing, POST suppresses."""

from __future__ import annotations

from typing import Any

from tests.web.routes import Expect

ROUTES = {
    "unsubscribe.confirm": Expect(anon=200, args={"token": "unsubscribe_token"}),
    "unsubscribe.apply": Expect(
        method="POST",
        anon=200,
        specialist=200,
        manager=200,
        admin=200,
        args={"token": "unsubscribe_token"},
    ),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.mail.unsubscribe import make_unsubscribe_token

    world["unsubscribe_token"] = make_unsubscribe_token(
        "test-secret-key", "unsubscribe-me@example.com", None
    )
