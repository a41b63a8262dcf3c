"""Expected status per route and role, declared per area in tests/web/routes/<area>.py.

Each module defines ROUTES: {endpoint: Expect(...)} and may define
`build_world(world: dict) -> None` to add the objects its URL arguments name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("anon", "specialist", "manager", "admin")


@dataclass(frozen=True)
class Expect:
    """Statuses for anonymous, specialist, manager and admin; and how to call the route."""

    anon: int = 302
    specialist: int = 200
    manager: int = 200
    admin: int = 200
    method: str = "GET"
    # URL argument -> key in the world dict (default: the argument's own name).
    args: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    query: str = ""

    def status_for(self, role: str) -> int:
        return int(getattr(self, role))


PAGE = Expect()
MANAGER_PAGE = Expect(specialist=403)
ADMIN_PAGE = Expect(specialist=403, manager=403)
PUBLIC = Expect(anon=200)


def _modules() -> list[Any]:
    return [
        importlib.import_module(f"{__name__}.{m.name}")
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_")
    ]


def expected_routes() -> dict[str, Expect]:
    table: dict[str, Expect] = {}
    for module in _modules():
        for endpoint, expect in module.ROUTES.items():
            assert endpoint not in table, f"{endpoint} declared twice"
            table[endpoint] = expect
    return table


def world_builders() -> list[Callable[[dict[str, Any]], None]]:
    """Builders in BUILD_ORDER (default 50): a later one may use an earlier one's objects."""
    modules = sorted(
        (m for m in _modules() if hasattr(m, "build_world")),
        key=lambda m: getattr(m, "BUILD_ORDER", 50),
    )
    return [m.build_world for m in modules]
