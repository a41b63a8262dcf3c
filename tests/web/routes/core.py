"""Foundation routes."""

from __future__ import annotations

from typing import Any

from tests.web.routes import ADMIN_PAGE, MANAGER_PAGE, PAGE, PUBLIC, Expect

BUILD_ORDER = 0

ROUTES = {
    "static": Expect(anon=200, args={"filename": "static_file"}),
    "auth.login": Expect(anon=200, specialist=302, manager=302, admin=302),
    "auth.logout": Expect(method="POST", anon=302, specialist=302, manager=302, admin=302),
    "home.index": PAGE,  # the setup checklist until every step is done
    "campaigns.index": PAGE,
    "campaigns.new": MANAGER_PAGE,
    "campaigns.show": PAGE,
    "campaigns.settings": MANAGER_PAGE,
    # POST with no fields: a manager gets the form back with errors (422).
    "campaigns.add_target": Expect(method="POST", specialist=403, manager=422, admin=422),
    "campaigns.delete_target": Expect(
        method="POST", specialist=403, manager=302, admin=302, args={"target_id": "target"}
    ),
    "settings.index": PAGE,
    "settings.users": ADMIN_PAGE,
    "settings.new_user": ADMIN_PAGE,
    "settings.edit_user": Expect(specialist=403, manager=403, args={"user_id": "specialist_id"}),
    "prospects.index": PAGE,
    "prospects.show": Expect(args={"prospect_id": "prospect_id"}),
    "inbox.index": PAGE,
    "reports.index": PAGE,
}

_ = PUBLIC


def build_world(world: dict[str, Any]) -> None:
    world["static_file"] = "app.css"
    world["specialist_id"] = world["specialist"].id
    from tests.factories import ProspectFactory

    world["prospect_id"] = ProspectFactory(campaign=world["campaign"]).id
