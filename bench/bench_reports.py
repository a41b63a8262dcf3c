"""Reports benchmark (DESIGN §9): reports over 1,000,000 touches and 100,000+ prospects.

Each breakdown (and angle × tier) is timed through crm.reports — SQL built
with SQLAlchemy, run, labelled and shaped into rows with Wilson intervals —
next to the equivalent hand-written SQL (the same GROUP BY and median query,
as text, fetched raw), in the same run; the numbers of both are checked
equal first. The dashboard page (signed in, every chart and table) is timed
next to a bare Flask view that replays the very statements the page ran and
joins the rows into a minimal table: the p95 of each.

SQLite always; PostgreSQL too when BENCH_REPORTS_PG_URL names a throwaway
database (its public schema is dropped); BENCH_REPORTS_SQLITE=0 leaves SQLite out (to run
the two backends in two processes). BENCH_REPORTS_TOUCHES changes the
size, BENCH_REPORTS_REQUESTS the page requests per contender, BENCH_REPORTS_ROUNDS
the interleaved rounds per breakdown (best kept). Run alone with
``python -m bench.run reports``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event

from bench.common import (
    BenchRow,
    analyze,
    migrated_app,
    p95,
    reset_postgres,
    signed_in_client,
    timed_get,
)
from bench.reports_data import fill

TOUCHES = int(os.environ.get("BENCH_REPORTS_TOUCHES", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REPORTS_REQUESTS", "20"))
ROUNDS = max(1, int(os.environ.get("BENCH_REPORTS_ROUNDS", "3")))
BREAKDOWNS: list[tuple[str, ...]] = [
    ("angle",), ("tier",), ("authority",), ("link-type",), ("target",), ("specialist",),
    ("mailbox",), ("step",), ("week",), ("angle", "tier"),
]  # fmt: skip

# The hand-written SQL: per breakdown, the key of a contacted enrollment's row and of a
# prospect that won without email ({week} and {days} differ by dialect).
_BAND = ("CASE WHEN {p}.authority IS NULL THEN NULL WHEN {p}.authority < 30 THEN '0–29' "
         "WHEN {p}.authority < 50 THEN '30–49' WHEN {p}.authority < 70 THEN '50–69' "
         "ELSE '70+' END")  # fmt: skip
KEYS = {
    "angle": ("e.angle", "p.angle"),
    "tier": ("p.tier", "p.tier"),
    "authority": (_BAND.format(p="p"), _BAND.format(p="p")),
    "link-type": ("p.link_type", "p.link_type"),
    "target": ("p.target_page_id", "p.target_page_id"),
    "specialist": ("COALESCE(p.assigned_to_id, e.created_by_id)", "p.assigned_to_id"),
    "mailbox": ("e.mailbox_id", "NULL"),
    "week": ("{week}", "NULL"),
    "step": ("t.step", "NULL"),
}
DIALECT = {
    "sqlite": {
        "week": "date(s.first_sent_at, 'weekday 0', '-6 days')",
        "days": "(julianday(placed_on) - julianday(date(first_sent_at)))",
    },
    "postgresql": {
        "week": "CAST(date_trunc('week', s.first_sent_at AT TIME ZONE 'UTC') AS DATE)",
        "days": "CAST(placed_on - CAST(first_sent_at AT TIME ZONE 'UTC' AS DATE)"
                " AS DOUBLE PRECISION)",
    },
}  # fmt: skip

HAND_FACTS = """
WITH sent AS (
  SELECT enrollment_id, MIN(sent_at) AS first_sent_at, MAX(step) AS last_step
  FROM touches WHERE state = 'sent' GROUP BY enrollment_id
), ranked AS (
  SELECT m.enrollment_id, m.kind, m.outcome, t.step,
         ROW_NUMBER() OVER (PARTITION BY m.enrollment_id, m.kind
                            ORDER BY m.received_at, m.id) AS nth
  FROM inbound_messages m LEFT JOIN touches t ON t.id = m.matched_touch_id
  WHERE m.enrollment_id IS NOT NULL
    AND m.kind IN ('human_reply', 'bounce_hard', 'unsubscribe_request')
), resp AS (
  SELECT enrollment_id,
    MAX(CASE WHEN kind = 'human_reply' THEN 1 ELSE 0 END) AS replied,
    MAX(CASE WHEN kind = 'human_reply' AND outcome = 'positive' THEN 1 ELSE 0 END) AS positive,
    MAX(CASE WHEN kind = 'bounce_hard' THEN 1 ELSE 0 END) AS bounced,
    MAX(CASE WHEN kind = 'unsubscribe_request' THEN 1 ELSE 0 END) AS unsub,
    MAX(CASE WHEN kind = 'human_reply' AND nth = 1 THEN step END) AS reply_step,
    MIN(CASE WHEN kind = 'bounce_hard' THEN step END) AS bounce_step
  FROM ranked GROUP BY enrollment_id
), won AS (
  SELECT prospect_id, MIN(placed_on) AS placed_on FROM won_links GROUP BY prospect_id
), facts AS (
  SELECT e.prospect_id, {keys_enrolled}, s.first_sent_at, 1 AS contacted, {flags}
  FROM enrollments e
  JOIN sent s ON s.enrollment_id = e.id
  JOIN prospects p ON p.id = e.prospect_id
  {touch_join}
  LEFT JOIN resp r ON r.enrollment_id = e.id
  LEFT JOIN won w ON w.prospect_id = e.prospect_id
  WHERE p.campaign_id = {campaign}
  UNION ALL
  SELECT p.id, {keys_won}, NULL, 0, 0, 0, w.placed_on, 0, 0
  FROM prospects p JOIN won w ON w.prospect_id = p.id
  WHERE p.campaign_id = {campaign} AND NOT EXISTS (
    SELECT 1 FROM enrollments e JOIN touches t ON t.enrollment_id = e.id
    WHERE e.prospect_id = p.id AND t.state = 'sent')
)
"""
FLAGS_ENROLLMENT = """COALESCE(r.replied, 0) AS replied, COALESCE(r.positive, 0) AS positive,
  w.placed_on AS placed_on,
  CASE WHEN e.stop_reason = 'bounced' OR COALESCE(r.bounced, 0) = 1 THEN 1 ELSE 0 END AS bounced,
  CASE WHEN e.stop_reason = 'unsubscribed' OR COALESCE(r.unsub, 0) = 1 THEN 1 ELSE 0 END
    AS unsubscribed"""
FLAGS_TOUCH = """
  CASE WHEN COALESCE(r.replied, 0) = 1 AND COALESCE(r.reply_step, s.last_step) = t.step
       THEN 1 ELSE 0 END AS replied,
  CASE WHEN COALESCE(r.positive, 0) = 1 AND COALESCE(r.reply_step, s.last_step) = t.step
       THEN 1 ELSE 0 END AS positive,
  CASE WHEN COALESCE(r.reply_step, s.last_step) = t.step THEN w.placed_on END AS placed_on,
  CASE WHEN (e.stop_reason = 'bounced' OR COALESCE(r.bounced, 0) = 1)
        AND COALESCE(r.bounce_step, s.last_step) = t.step THEN 1 ELSE 0 END AS bounced,
  CASE WHEN (e.stop_reason = 'unsubscribed' OR COALESCE(r.unsub, 0) = 1)
        AND s.last_step = t.step THEN 1 ELSE 0 END AS unsubscribed"""
HAND_COUNTS = """
SELECT {keys}, SUM(contacted), COUNT(DISTINCT CASE WHEN contacted = 1 THEN prospect_id END),
  SUM(replied), SUM(positive),
  COUNT(DISTINCT CASE WHEN placed_on IS NOT NULL THEN prospect_id END),
  COUNT(DISTINCT CASE WHEN placed_on IS NOT NULL AND contacted = 1 THEN prospect_id END),
  SUM(bounced), SUM(unsubscribed)
FROM facts GROUP BY {keys}
"""
HAND_TIMES = """, placed AS (
  SELECT {keys}, prospect_id, MIN(first_sent_at) AS first_sent_at, MIN(placed_on) AS placed_on
  FROM facts WHERE contacted = 1 AND placed_on IS NOT NULL GROUP BY {keys}, prospect_id
), timed AS (
  SELECT {keys}, {days} AS days FROM placed WHERE {days} >= 0
), ranked_days AS (
  SELECT {keys}, days, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY days) AS nth,
         COUNT(*) OVER (PARTITION BY {keys}) AS n
  FROM timed
)
SELECT {keys}, AVG(CASE WHEN nth IN ((n + 1) / 2, (n + 2) / 2) THEN days END), AVG(days), COUNT(*)
FROM ranked_days GROUP BY {keys}
"""


def hand_sql(dims: tuple[str, ...], dialect: str, campaign_id: int) -> tuple[str, str]:
    """The counting statement and the median statement for a breakdown, written by hand."""
    names = [f"k{i}" for i in range(len(dims))]
    enrolled = ", ".join(
        KEYS[d][0].format(week=DIALECT[dialect]["week"]) + f" AS {n}"
        for d, n in zip(dims, names, strict=True)
    )
    won = ", ".join(f"{KEYS[d][1]} AS {n}" for d, n in zip(dims, names, strict=True))
    touch = "step" in dims
    facts = HAND_FACTS.format(
        keys_enrolled=enrolled, keys_won=won, campaign=campaign_id,
        flags=FLAGS_TOUCH if touch else FLAGS_ENROLLMENT,
        touch_join="JOIN touches t ON t.enrollment_id = e.id AND t.state = 'sent'" if touch else "",
    )  # fmt: skip
    keys = ", ".join(names)
    days = DIALECT[dialect]["days"]
    return facts + HAND_COUNTS.format(keys=keys), facts + HAND_TIMES.format(keys=keys, days=days)


def _build(url: str, instance: Path) -> tuple[Flask, int]:
    """Migrate, add a manager and a campaign, fill the workload; return the app."""
    from crm.core.campaigns import create_campaign
    from crm.extensions import db

    app = migrated_app(url, str(instance))
    with app.app_context():
        campaign = create_campaign("Bench", "our-site.com", ["rival-a.com", "rival-b.com"])
        counts = fill(db.session, campaign.id, TOUCHES)
        db.session.commit()
        print(f"    {counts}", file=sys.stderr)
        campaign_id = campaign.id
    analyze(app)
    return app, campaign_id


def _counts_of_ours(rows: list[Any]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    out = {}
    for row in rows:
        c = row.counts
        key = tuple(g.value for g in row.groups)
        out[key] = (c.contacted, c.contacted_prospects, c.replied, c.positive, c.placed,
                    c.placed_after_email, c.bounces, c.unsubscribes, row.median_days,
                    row.mean_days)  # fmt: skip
    return out


def _counts_of_hand(counts: list[Any], times: list[Any], n: int) -> dict[tuple[Any, ...], Any]:
    by_key = {tuple(_plain(v) for v in r[:n]): r[n:] for r in times}
    out = {}
    for r in counts:
        key = tuple(_plain(v) for v in r[:n])
        median, mean, _ = by_key.get(key, (None, None, 0))
        out[key] = (*(int(v or 0) for v in r[n:]),
                    None if median is None else round(float(median), 1),
                    None if mean is None else round(float(mean), 1))  # fmt: skip
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _time_breakdowns(app: Flask, campaign_id: int, label: str) -> list[BenchRow]:
    from crm.extensions import db
    from crm.reports.params import ReportScope
    from crm.reports.report import build_report

    rows = []
    with app.app_context():
        dialect = db.engine.dialect.name
        scope = ReportScope((campaign_id,))
        for dims in BREAKDOWNS:
            count_sql, times_sql = hand_sql(dims, dialect, campaign_id)

            def hand(count_sql: str = count_sql, times_sql: str = times_sql) -> Any:
                with db.engine.connect() as conn:
                    counts = conn.exec_driver_sql(count_sql).all()
                    times = conn.exec_driver_sql(times_sql).all()
                return counts, times

            def ours(dims: tuple[str, ...] = dims) -> Any:
                found = build_report(dims, scope)
                db.session.rollback()
                return found

            assert _counts_of_ours(ours()) == _counts_of_hand(*hand(), len(dims)), dims
            best_ours = best_hand = float("inf")
            for _ in range(ROUNDS):
                start = time.perf_counter()
                hand()
                best_hand = min(best_hand, time.perf_counter() - start)
                start = time.perf_counter()
                ours()
                best_ours = min(best_ours, time.perf_counter() - start)
            name = " × ".join(dims)
            print(f"    {name}: {best_ours:.3f} s vs {best_hand:.3f} s", file=sys.stderr)
            figure = f"report by {name}, {TOUCHES:,} touches ({label})"
            rows.append(BenchRow(figure, best_ours, "hand-written SQL GROUP BY", best_hand,
                                 "s", "≤ 1.5×"))  # fmt: skip
    return rows


def _bare_app(url: str, statements: list[tuple[str, Any]]) -> Flask:
    """A bare Flask view that replays the dashboard's statements and prints a minimal table."""
    engine = create_engine(url)
    bare = Flask("bare")

    @bare.route("/dashboard")
    def dashboard() -> str:
        parts = []
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is None:  # DDL, INSERT, SAVEPOINT: no rows to show
                    continue
                cells = "".join(
                    "<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                    for row in cursor.fetchall()
                )
                parts.append(f"<table>{cells}</table>")
            raw.rollback()
        finally:
            raw.close()
        return "".join(parts)

    return bare


def _time_dashboard(app: Flask, url: str, campaign_id: int, label: str) -> list[BenchRow]:
    from crm.extensions import db

    ours = signed_in_client(app)
    page = f"/reports?campaign={campaign_id}"
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        engine = db.engine

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    assert ours.get(page).status_code == 200
    event.remove(engine, "before_cursor_execute", record)
    print(f"    dashboard: {len(statements)} statements", file=sys.stderr)
    bare = _bare_app(url, statements).test_client()

    timed_ours, timed_bare = timed_get(ours, page), timed_get(bare, "/dashboard")
    timed_ours()
    timed_bare()
    a: list[float] = []
    b: list[float] = []
    for _ in range(REQUESTS):
        a.append(timed_ours())
        b.append(timed_bare())
    print(f"    dashboard p95: {p95(a):.3f} s vs {p95(b):.3f} s", file=sys.stderr)
    return [BenchRow(f"dashboard page p95, {TOUCHES:,} touches ({label})", p95(a),
                     "bare Flask view, same statements", p95(b), "s", "≤ 2×")]  # fmt: skip


def _measure(url: str, label: str) -> list[BenchRow]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        app, campaign_id = _build(url, Path(folder))
        print(f"  {label}: workload ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        rows = _time_breakdowns(app, campaign_id, label)
        rows += _time_dashboard(app, url, campaign_id, label)
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
    return rows


def run() -> list[BenchRow]:
    rows = []
    if os.environ.get("BENCH_REPORTS_SQLITE", "1") != "0":
        with tempfile.TemporaryDirectory() as folder:
            rows += _measure(f"sqlite:///{folder}/bench.db", "SQLite")
    pg = os.environ.get("BENCH_REPORTS_PG_URL")
    if pg:
        reset_postgres(pg)
        rows += _measure(pg, "PostgreSQL")
    else:
        print(
            "  PostgreSQL skipped: set BENCH_REPORTS_PG_URL to an empty database", file=sys.stderr
        )
    return rows
