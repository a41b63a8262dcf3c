"""A campaign's won-link thresholds, kept in `Campaign.settings["links"]` (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from crm.core.errors import UserError


@dataclass(frozen=True)
class LinkSettings:
    # A link is lost after this many conclusive misses in a row.
    lost_after: int = 2
    # Warn when exact-match anchors pass this share of links (per target page, per site).
    exact_share_max: float = 0.30
    # Warn when one anchor text passes this share, once a scope has `dominant_min_links`.
    dominant_share_max: float = 0.50
    dominant_min_links: int = 5
    # Warn when a week's links pass `velocity_factor` × the trailing weekly average.
    velocity_factor: float = 2.5
    velocity_weeks: int = 8
    velocity_min_links: int = 3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_LIMITS: dict[str, tuple[float, float, str]] = {
    "lost_after": (1, 10, "checks before a link is lost"),
    "exact_share_max": (0.01, 1, "exact-match threshold"),
    "dominant_share_max": (0.05, 1, "one-anchor threshold"),
    "dominant_min_links": (1, 1000, "links before the one-anchor warning"),
    "velocity_factor": (1, 100, "velocity spike factor"),
    "velocity_weeks": (1, 52, "weeks of trailing average"),
    "velocity_min_links": (1, 1000, "links in a week before a spike counts"),
}


def link_settings(campaign_settings: dict[str, Any] | None) -> LinkSettings:
    """Read a campaign's thresholds, defaults for what is missing or unreadable."""
    stored = (campaign_settings or {}).get("links") or {}
    values: dict[str, Any] = {}
    for f in fields(LinkSettings):
        if f.name in stored:
            try:
                values[f.name] = int(stored[f.name]) if f.type == "int" else float(stored[f.name])
            except (TypeError, ValueError):
                continue
    return LinkSettings(**values)


def clean_link_settings(raw: dict[str, Any]) -> LinkSettings:
    """Validate thresholds from a form or a script; UserError naming the field."""
    values: dict[str, Any] = {}
    for f in fields(LinkSettings):
        if f.name not in raw or raw[f.name] in (None, ""):
            continue
        low, high, label = _LIMITS[f.name]
        text = str(raw[f.name]).strip().rstrip("%")
        try:
            number = float(text)
        except ValueError:
            raise UserError(f"{label}: {raw[f.name]!r} is not a number", field=f.name) from None
        if f.name.endswith("_share_max") and (number > 1 or str(raw[f.name]).endswith("%")):
            number = number / 100  # "30" or "30%" means 30 %
        if not low <= number <= high:
            raise UserError(f"{label}: must be between {low:g} and {high:g}", field=f.name)
        values[f.name] = int(number) if f.type == "int" else number
    return LinkSettings(**values)
