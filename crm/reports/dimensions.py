"""The breakdowns a report can group by (CONTRACT `crm report --by`), and their labels.

Pure: names, JSON keys, how a group's key is shown and sorted. The SQL for
each dimension lives in crm/reports/facts.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AUTHORITY_BANDS = ("0–29", "30–49", "50–69", "70+")


@dataclass(frozen=True)
class Dimension:
    """One breakdown: its CLI name, its JSON key, a heading, and the label of a missing key."""

    name: str
    key: str
    heading: str
    missing: str
    # Keys sort by number (tier, step), by a fixed order (bands), or by their label.
    numeric: bool = False
    order: tuple[str, ...] = ()

    def label(self, value: Any, labels: Mapping[Any, str]) -> str:
        """Return how a group's key reads on the page."""
        if value is None:
            return self.missing
        if self.name == "tier":
            return f"tier {value}"
        if self.name == "step":
            return f"touch {value}"
        return labels.get(value, str(value))

    def sort_key(self, value: Any, label: str) -> tuple[int, Any]:
        """Sort groups naturally, missing keys last."""
        if value is None:
            return (2, "")
        if self.numeric:
            return (0, int(value))
        if self.order:
            return (0, self.order.index(value) if value in self.order else len(self.order))
        if self.name == "week":
            return (0, str(value))
        return (0, label.casefold())


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("angle", "angle", "Angle", "(no angle)"),
        Dimension("tier", "tier", "Tier", "(no tier)", numeric=True),
        Dimension(
            "authority", "authority", "Authority", "(unknown authority)", order=AUTHORITY_BANDS
        ),
        Dimension("link-type", "link_type", "Link type", "(unknown link type)"),
        Dimension("target", "target", "Target page", "(no target page)"),
        Dimension("specialist", "specialist", "Specialist", "(unassigned)"),
        Dimension("mailbox", "mailbox", "Mailbox", "(no email sent)"),
        Dimension("step", "step", "Step", "(no email sent)", numeric=True),
        Dimension("week", "week", "Week of first send", "(no email sent)"),
    )
}

NAMES = tuple(DIMENSIONS)
