"""Panels of the prospect page, one per area, named in PROSPECT_PANELS.

A panel is a function `(prospect) -> Panel | None`; its template is included in
templates/prospects/show.html with `panel.ctx` in scope.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm.models import Prospect


@dataclass(frozen=True)
class Panel:
    template: str
    ctx: dict[str, Any] = field(default_factory=dict)
    # "main" panels stack in the wide column, "side" ones beside it.
    column: str = "main"


PROSPECT_PANELS: list[str] = [
    "crm.web.gap_prospect:gap_panel",
    "crm.web.contacts:contacts_panel",
    "crm.web.outbox:sequences_panel",
    "crm.web.inbox:thread_panel",
    "crm.web.links:links_panel",
    "crm.web.panels:timeline_panel",
]


def timeline_panel(prospect: Prospect) -> Panel:
    return Panel(
        "prospects/_timeline.html", {"entries": list(reversed(prospect.touchpoints))}, column="side"
    )


def _load(target: str) -> Callable[[Prospect], Panel | None]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def prospect_panels(prospect: Prospect) -> list[Panel]:
    panels = [_load(t)(prospect) for t in PROSPECT_PANELS]
    return [p for p in panels if p is not None]
