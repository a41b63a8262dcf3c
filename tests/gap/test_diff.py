"""What changed between two snapshots, and when a campaign is due for fresh exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm.gap.compute import GapSettings
from crm.gap.diff import DiffTally, LostLink, Snapshot, SnapshotDiff, is_gap, is_stale

SETTINGS = GapSettings("us.com", ("a.com", "b.com"))


def diff_snapshots(
    before: Snapshot, after: Snapshot, covered: set[str] | None = None
) -> SnapshotDiff:
    tally = DiffTally(SETTINGS, covered)
    for domain in sorted(before.keys() | after.keys()):
        tally.add(domain, before.get(domain), after.get(domain))
    return tally.diff()


def test_diff_names_new_gaps_closed_gaps_and_lost_competitor_links() -> None:
    before = {
        "stay.org": {"a.com": 1},
        "closes.org": {"a.com": 2},
        "drops.org": {"a.com": 1, "b.com": 3},
    }
    after = {
        "stay.org": {"a.com": 1},
        "closes.org": {"a.com": 2, "us.com": 1},
        "drops.org": {"a.com": 1},
        "new.org": {"b.com": 1},
    }
    diff = diff_snapshots(before, after)
    assert diff.new_gaps == ("new.org",) and diff.closed_gaps == ("closes.org",)
    assert diff.lost_links == (LostLink("drops.org", "b.com", 3),)
    assert not diff.empty and diff_snapshots(after, after).empty


def test_links_are_only_lost_for_sites_the_new_import_covers() -> None:
    diff = diff_snapshots({"x.org": {"b.com": 1}}, {}, covered={"a.com"})
    assert diff.lost_links == ()


def test_is_gap_respects_the_minimum_overlap() -> None:
    strict = GapSettings("us.com", ("a.com", "b.com"), min_overlap=2)
    assert is_gap({"a.com": 1}, SETTINGS) and not is_gap({"a.com": 1}, strict)
    assert not is_gap({"a.com": 1, "us.com": 1}, SETTINGS) and not is_gap(None, SETTINGS)


def test_a_snapshot_older_than_the_cadence_is_stale() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert is_stale(None, now)
    assert is_stale(now - timedelta(days=92), now)
    assert not is_stale(now - timedelta(days=30), now)
    assert is_stale(now - timedelta(days=8), now, cadence=timedelta(days=7))


def test_only_the_first_few_of_each_list_are_kept_in_order_with_every_count() -> None:
    tally = DiffTally(SETTINGS, limit=2)
    for domain in ("d.org", "b.org", "c.org", "a.org"):
        tally.add(domain, None, {"a.com": 1})
    diff = tally.diff()
    assert diff.new_gaps == ("a.org", "b.org") and diff.new_gap_count == 4
