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
    rows, total = page_of(campaign.id, GapFilter(), 1, 50)
    assert total == 1
    assert [type(r) for r in rows] == [TableRow]
    assert rows[0].domain == "alpha.com" and rows[0].score == 0.5
    assert [c.key for c in TABLE_COLUMNS] == list(TableRow._fields)


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
