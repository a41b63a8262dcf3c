"""A breakdown report, counted in SQL and shaped: what the page, the CLI and the API call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm.reports.breakdown import count_groups
from crm.reports.labels import labels_for
from crm.reports.params import ReportScope
from crm.reports.shaping import ReportRow, shape_rows


def build_report(dims: Sequence[str], scope: ReportScope, source: Any = None) -> list[ReportRow]:
    """Return the rows of a report by zero, one or two breakdowns (zero: one "all" row).

    `source`: facts already stored for this scope (crm/reports/stored.py).
    """
    groups = count_groups(dims, scope, source)
    labels = labels_for(dims, (g.keys for g in groups))
    return shape_rows(dims, groups, labels)


def build_total(scope: ReportScope, source: Any = None) -> ReportRow:
    """Return the one row that counts the whole scope."""
    rows = build_report((), scope, source)
    return rows[0]
