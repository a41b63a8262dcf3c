"""Built-in angles and step offsets."""

from __future__ import annotations

import pytest

from crm.outreach.angles import (
    BUILTIN_ANGLES,
    DEFAULT_STEP_OFFSETS_DAYS,
    angle_slug,
    builtin_angle,
    step_gaps,
)


def test_builtin_angles_are_the_seven_of_the_design_vocabulary() -> None:
    assert [a.label for a in BUILTIN_ANGLES] == [
        "resource replacement",
        "coverage gap",
        "unlinked mention",
        "broken link",
        "skyscraper",
        "guest post",
        "roundup inclusion",
    ]
    assert len({a.slug for a in BUILTIN_ANGLES}) == 7


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


def test_builtin_angle_finds_by_label_or_slug_and_not_team_angles() -> None:
    found = builtin_angle("Broken link")
    assert found is not None and found.slug == "broken-link"
    assert builtin_angle("podcast guest spot") is None
    assert builtin_angle("!!") is None


def test_default_offsets_are_day_1_4_9_14() -> None:
    assert DEFAULT_STEP_OFFSETS_DAYS == (0, 3, 8, 13)
    assert step_gaps(DEFAULT_STEP_OFFSETS_DAYS) == [3, 5, 5]


@pytest.mark.parametrize("offsets", [(), (1, 3), (0, 3, 3), (0, 5, 2)])
def test_step_gaps_refuses_sequences_that_do_not_start_on_day_1_or_do_not_increase(
    offsets: tuple[int, ...],
) -> None:
    with pytest.raises(ValueError):
        step_gaps(offsets)
