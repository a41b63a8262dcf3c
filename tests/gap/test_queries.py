"""Reading the gap: a page of the table is plain named tuples."""

from __future__ import annotations

from typing import Any

import pytest

from crm.gap.queries import TABLE_COLUMNS, GapFilter, TableRow, page_of
from crm.models import Prospect

pytestmark = pytest.mark.postgres


def test_a_page_is_named_tuples_of_the_table_columns(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    db.session.add(Prospect(campaign_id=campaign.id, domain="alpha.com", in_gap=True, score=0.5))
    db.session.commit()
    rows, total, hidden = page_of(campaign.id, GapFilter(), 1, 50)
    assert (total, hidden) == (1, 0)
    assert [type(r) for r in rows] == [TableRow]
    assert rows[0].domain == "alpha.com" and rows[0].score == 0.5
    assert [c.key for c in TABLE_COLUMNS] == list(TableRow._fields)


def test_a_page_of_the_visible_prospects_counts_the_ones_the_rules_hide_too(
    db: Any, team: dict[str, Any]
) -> None:
    from tests.factories import ProspectFactory

    campaign = team["campaign"]
    for n, hidden_by in enumerate((None, None, "spam", "directory", None)):
        ProspectFactory(campaign=campaign, domain=f"d{n}.com", in_gap=True, excluded_by=hidden_by)
    ProspectFactory(campaign=campaign, domain="ours.com", in_gap=False, excluded_by="spam")
    db.session.commit()
    visible = page_of(campaign.id, GapFilter(), 1, 2)
    assert (len(visible.rows), visible.total, visible.hidden) == (2, 3, 2)
    only = page_of(campaign.id, GapFilter(hidden="only"), 1, 50)
    assert (sorted(r.domain for r in only.rows), only.total, only.hidden) == (
        ["d2.com", "d3.com"], 2, 0)  # fmt: skip
    every = page_of(campaign.id, GapFilter(hidden="all", view="all"), 1, 50)
    assert (every.total, every.hidden) == (6, 0)


def test_the_csv_export_escapes_text_a_spreadsheet_would_run_as_a_formula() -> None:
    import csv
    import io

    from crm.gap.queries import CSV_FIELDS, csv_lines

    row = dict.fromkeys(CSV_FIELDS)
    row |= {"domain": "a.com", "source": "=HYPERLINK(\"http://x\")", "angle": "+1", "traffic": -5,
            "score": 0.5, "competitors": ["-rival.com"], "excluded_by": "@spam"}  # fmt: skip
    text = "".join(csv_lines(iter([row])))
    cells = dict(zip(CSV_FIELDS, list(csv.reader(io.StringIO(text)))[1], strict=True))
    assert cells["source"] == '\'=HYPERLINK("http://x")'
    assert (cells["angle"], cells["competitors"], cells["excluded_by"]) == ("'+1", "'-rival.com",
                                                                            "'@spam")  # fmt: skip
    assert (cells["traffic"], cells["score"], cells["domain"]) == ("-5", "0.5", "a.com")


def test_the_export_of_a_view_gives_each_prospect_as_its_facts_page_shows_it(
    db: Any, team: dict[str, Any]
) -> None:
    from crm.core.prospects import prospect_facts
    from crm.gap.queries import iter_facts
    from tests.factories import ProspectFactory

    campaign = team["campaign"]
    pitched = ProspectFactory(
        campaign=campaign, domain="alpha.com", in_gap=True, score=0.9, competitors=["rival-a.com"],
        backlinks={"rival-a.com": 3}, category_bits=3, tier=1, authority=55.5,
        angle="roundup-inclusion", target_page=team["target"], assigned_to=team["specialist"],
    )  # fmt: skip
    bare = ProspectFactory(campaign=campaign, domain="beta.com", in_gap=True, score=0.1)
    ProspectFactory(campaign=team["other_campaign"], domain="gamma.com", in_gap=True)
    db.session.commit()
    exported = list(iter_facts(campaign.id, GapFilter()))
    assert exported == [prospect_facts(pitched), prospect_facts(bare)]
    assert (exported[0]["target_url"], exported[0]["assigned_to"]) == (
        team["target"].url, team["specialist"].email)  # fmt: skip
    assert exported[0]["categories"] == ["best", "strong"]
    assert (exported[1]["target_url"], exported[1]["assigned_to"]) == (None, None)
