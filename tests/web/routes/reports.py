"""Reports: the dashboard, the builder and their CSV downloads (reports.index is in core)."""

from __future__ import annotations

from tests.web.routes import PAGE, Expect

ROUTES = {
    "reports.builder": PAGE,
    "reports.export": Expect(args={"name": "report_table"}),
}


def build_world(world: dict[str, object]) -> None:
    world["report_table"] = "angle"
