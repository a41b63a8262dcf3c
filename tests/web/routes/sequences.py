"""Sequences and their editor."""

from __future__ import annotations

from typing import Any

from tests.web.routes import PAGE, Expect

ROUTES = {
    "sequences.index": PAGE,
    "sequences.create_angle": Expect(method="POST", specialist=403, manager=422, admin=422),
    "sequences.edit": Expect(args={"slug": "angle_slug"}),
    "sequences.preview": Expect(method="POST", args={"slug": "angle_slug"}),
}


def build_world(world: dict[str, Any]) -> None:
    world["angle_slug"] = "broken-link"
