"""The demo's pages: 404 unless the process runs beside the demo's mail sandbox."""

from __future__ import annotations

from typing import Any

from tests.web.routes import Expect

ROUTES = {
    "demo.mail": Expect(specialist=404, manager=404, admin=404),
    "demo.message": Expect(
        specialist=404, manager=404, admin=404, args={"folder": "demo_folder", "name": "demo_name"}
    ),
}


def build_world(world: dict[str, Any]) -> None:
    world["demo_folder"] = "sent"
    world["demo_name"] = "00000000000000000001-000.eml"
