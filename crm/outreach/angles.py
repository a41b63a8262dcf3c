"""Outreach angles (DESIGN §3) and the default spacing of a sequence's touches.

An angle is the reason a prospect should link to us; every angle has its own
sequence. The built-ins below are seeded into each installation; teams add
their own angles, which only need a unique slug and a label.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Angle:
    """One outreach angle: a stable slug, the label people read, a one-line hint."""

    slug: str
    label: str
    hint: str


BUILTIN_ANGLES: tuple[Angle, ...] = (
    Angle(
        "resource-replacement",
        "resource replacement",
        "Their page links to a competitor's (or an outdated) resource; offer ours instead "
        "or alongside it.",
    ),
    Angle(
        "coverage-gap",
        "coverage gap",
        "Their page covers the topic but misses something our page covers well.",
    ),
    Angle(
        "unlinked-mention",
        "unlinked mention",
        "They mention our brand or data without a link; ask them to add one.",
    ),
    Angle(
        "broken-link",
        "broken link",
        "Their page has a dead outbound link; point them at our working replacement.",
    ),
    Angle(
        "skyscraper",
        "skyscraper",
        "They link to a piece we have clearly outdone; show them the better one.",
    ),
    Angle(
        "guest-post",
        "guest post",
        "Offer an original article for their site that cites our page where it helps readers.",
    ),
    Angle(
        "roundup-inclusion",
        "roundup inclusion",
        "They publish a list or roundup; ask them to consider our page for it.",
    ),
)

# Day 1, 4, 9 and 14 of the sequence, as offsets from the first touch.
DEFAULT_STEP_OFFSETS_DAYS: tuple[int, ...] = (0, 3, 8, 13)

_BY_SLUG = {angle.slug: angle for angle in BUILTIN_ANGLES}
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def angle_slug(text: str) -> str:
    """Return the slug of an angle label or slug: "Broken link" -> "broken-link"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if not slug:
        raise ValueError(f"angle name {text!r} has no letters or digits")
    return slug


def builtin_angle(text: str) -> Angle | None:
    """Return the built-in angle named by a label or slug, or None for a team's own angle."""
    try:
        return _BY_SLUG.get(angle_slug(text))
    except ValueError:
        return None


def step_gaps(offsets_days: tuple[int, ...] | list[int]) -> list[int]:
    """Return the days between consecutive steps, checking the offsets make a sequence."""
    if not offsets_days:
        raise ValueError("a sequence needs at least one step")
    if offsets_days[0] != 0:
        raise ValueError("the first step of a sequence is on day 1 (offset 0)")
    gaps = [later - earlier for earlier, later in itertools.pairwise(offsets_days)]
    if any(gap <= 0 for gap in gaps):
        raise ValueError("step offsets must increase: each follow-up comes after the one before")
    return gaps
