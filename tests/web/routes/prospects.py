"""The prospect page's own actions (deal stage, page), personalising a touch, the review list."""

from __future__ import annotations

from tests.web.routes import PAGE, Expect

ROUTES = {
    # Nothing chosen: back to the prospect's page with the error.
    "prospects.move_stage": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
    "prospects.set_page": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
    "prospects.edit_touch": Expect(args={"touch_id": "touch_id"}),
    "prospects.review": PAGE,
}
