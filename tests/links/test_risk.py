"""Anchor mix and velocity warnings (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from crm.links.risk import MixLink, assess_risk, week_start
from crm.links.settings import LinkSettings, clean_link_settings, link_settings
from crm.models import AnchorType

TODAY = date(2026, 11, 4)  # a Wednesday
GUIDE, TOOL = "acme.com/guide", "acme.com/tool"


def link(kind: AnchorType, anchor: str = "", target: str = GUIDE, days_ago: int = 60,
         **kw: bool) -> MixLink:  # fmt: skip
    return MixLink(anchor or kind.value, kind, target, TODAY - timedelta(days=days_ago), **kw)


def test_a_new_exact_anchor_past_the_threshold_is_warned_for_the_page_and_the_site() -> None:
    existing = [
        link(AnchorType.EXACT, "kanban board"), link(AnchorType.BRANDED, "Acme"),
        link(AnchorType.GENERIC, "here", TOOL), link(AnchorType.NAKED, "acme.com", TOOL),
    ]  # fmt: skip
    report = assess_risk(existing, settings=LinkSettings(), today=TODAY, site_label="acme.com",
                         target_key=GUIDE, target_label="the guide",
                         candidate=link(AnchorType.EXACT, "kanban board", days_ago=0))  # fmt: skip
    assert report.target is not None and report.target.total == 3
    assert any("would be 67% of links to the guide" in w for w in report.warnings)
    assert any("would be 40% of links to acme.com" in w for w in report.warnings)


def test_without_the_candidate_a_healthy_mix_has_no_warning() -> None:
    existing = [link(AnchorType.EXACT), link(AnchorType.BRANDED, "Acme"),
                link(AnchorType.GENERIC, "here"), link(AnchorType.NAKED, "acme.com")]  # fmt: skip
    report = assess_risk(existing, settings=LinkSettings(), today=TODAY, site_label="acme.com")
    assert report.warnings == [] and report.site.share(AnchorType.EXACT) == 0.25


def test_one_anchor_text_dominating_is_warned_once_there_are_enough_links() -> None:
    same = [link(AnchorType.BRANDED, "Acme") for _ in range(4)] + [link(AnchorType.GENERIC, "x")]
    report = assess_risk(same, settings=LinkSettings(), today=TODAY, site_label="acme.com")
    assert any("“acme” are 80%" in w for w in report.warnings)
    few = assess_risk(same[:3], settings=LinkSettings(), today=TODAY, site_label="acme.com")
    assert not any("dominates" in w for w in few.warnings)


def test_a_week_far_above_the_trailing_average_is_a_velocity_spike() -> None:
    steady = [link(AnchorType.BRANDED, f"b{i}", days_ago=7 * (i % 8) + 7) for i in range(8)]
    burst = [link(AnchorType.BRANDED, f"n{i}", days_ago=0) for i in range(4)]
    report = assess_risk(steady + burst, settings=LinkSettings(), today=TODAY, site_label="a")
    assert any(
        w.startswith("Velocity spike: 4 links in the week of 2026-11-02") for w in report.warnings
    )
    assert report.weeks[-1] == (week_start(TODAY), 4) and len(report.weeks) == 12
    calm = assess_risk(steady + burst[:2], settings=LinkSettings(), today=TODAY, site_label="a")
    assert not any("Velocity" in w for w in calm.warnings)


def test_mismatched_links_are_counted() -> None:
    report = assess_risk([link(AnchorType.BRANDED, "A", rel_mismatch=True)],
                         settings=LinkSettings(), today=TODAY, site_label="a")  # fmt: skip
    assert report.site.rel_mismatches == 1
    assert any("1 link(s) carry another rel" in w for w in report.warnings)


def test_thresholds_read_defaults_and_validate_with_the_field_named() -> None:
    assert link_settings({}) == LinkSettings()
    assert link_settings({"links": {"lost_after": "3", "exact_share_max": "oops"}}).lost_after == 3
    assert clean_link_settings({"exact_share_max": "25%"}).exact_share_max == 0.25
    import pytest

    from crm.core.errors import UserError

    with pytest.raises(UserError) as err:
        clean_link_settings({"lost_after": "0"})
    assert err.value.field == "lost_after" and "between 1 and 10" in err.value.message
