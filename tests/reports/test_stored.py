"""Stored facts leave nothing behind on the connection, whether the request commits or not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from crm.reports.params import ReportScope
from crm.reports.report import build_total
from crm.reports.shaping import row_json
from crm.reports.stored import stored_facts
from tests.reports.dataset import TOTAL, build_dataset, counts_of

pytestmark = pytest.mark.postgres


def _temp_tables(db: Any) -> int:
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM sqlite_temp_master WHERE name LIKE 'report_facts%'"
    else:
        sql = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'report_facts%'"
    return int(db.session.execute(text(sql)).scalar_one())


@pytest.mark.parametrize("end", ["rollback", "commit"])
def test_no_table_is_left_after_the_request(db: Any, end: str) -> None:
    data = build_dataset()
    scope = ReportScope((data.campaign.id,))
    for _ in range(2):  # the same pooled connection, twice
        with stored_facts(scope) as source:
            assert counts_of(row_json(build_total(scope, source))) == TOTAL
        getattr(db.session, end)()
        assert _temp_tables(db) == 0
