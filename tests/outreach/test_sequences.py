"""Angles and sequences in the database: an angle's slug."""

from __future__ import annotations

import pytest

from crm.outreach.sequences import angle_slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("resource replacement", "resource-replacement"),
        ("Resource Replacement", "resource-replacement"),
        ("resource-replacement", "resource-replacement"),
        ("  Podcast guest  spot! ", "podcast-guest-spot"),
        ("Café mention", "cafe-mention"),
    ],
)
def test_angle_slug_normalises_labels_and_slugs(text: str, slug: str) -> None:
    assert angle_slug(text) == slug


def test_angle_slug_refuses_names_without_letters() -> None:
    with pytest.raises(ValueError):
        angle_slug(" -- ")
