"""The prospect page's own actions (deal stage, page)."""

from __future__ import annotations

from tests.web.routes import Expect

ROUTES = {
    # Nothing chosen: back to the prospect's page with the error.
    "prospects.move_stage": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
    "prospects.set_page": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
}
