"""The prospect page's own actions (deal stage, page), personalising a touch, the review list."""

from __future__ import annotations

from tests.web.routes import PAGE, Expect

ROUTES = {
    # Nothing chosen: the prospect's page again, with the error next to the field.
    "prospects.move_stage": Expect(
        method="POST", specialist=422, manager=422, admin=422, args={"prospect_id": "prospect_id"}
    ),
    "prospects.set_page": Expect(
        method="POST", specialist=422, manager=422, admin=422, args={"prospect_id": "prospect_id"}
    ),
    "prospects.edit_touch": Expect(args={"touch_id": "touch_id"}),
    "prospects.review": PAGE,
}
