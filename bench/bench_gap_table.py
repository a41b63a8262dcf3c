"""Gap table benchmark (DESIGN §9): the prospect list page over 100,000 prospects.

The real page (/campaigns/<id>/gap, signed in, filtered and sorted, with its
count, pagination, template and every hook of the app) is timed next to a
bare Flask view that runs the same two queries (count + one page) on the same
database and joins the rows into a minimal table. Requests alternate between
the two after a warm-up; the figure is the p95 of each. SQLite always;
PostgreSQL too when BENCH_GAP_PG_URL names an empty database.
Run alone with ``python -m bench.run gap_table``; ``BENCH_GAP_TABLE_N`` changes N.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, insert, text

from bench.common import BenchRow

N = int(os.environ.get("BENCH_GAP_TABLE_N", "100000"))
# 200 per contender: a p95 of 40 samples is the second-worst sample, all noise.
REQUESTS = int(os.environ.get("BENCH_GAP_TABLE_REQUESTS", "200"))
ENCRYPTION_KEY = "q3Xn1b2hJm8WkYtqY0l8yq3kqJ3yG3kq3Xn1b2hJm8U="
PASSWORD = "bench-password-1234"
COMPETITORS = ["rival-a.com", "rival-b.co.uk", "rival-c.com", "rival-d.io"]
# The view timed: tier 2 of the gap, DR 30+, dofollow only, by authority, page 3.
QUERY = "tier=2&min_authority=30&dofollow=1&sort=authority&dir=desc&page=3"
LINK_TYPES = ("resource", "roundup", "editorial", "comparison", "guest_post", "directory",
              "forum", "profile", "other")  # fmt: skip


def _prospects(campaign_id: int, import_id: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    now = _now()
    rows = []
    for i in range(n):
        linked = [c for c, p in zip(COMPETITORS, (0.6, 0.45, 0.35, 0.3), strict=True)
                  if rng.random() < p] or [rng.choice(COMPETITORS)]  # fmt: skip
        ours = rng.random() < 0.2
        overlap = len(linked)
        in_gap = not ours
        tier = (1 if overlap == 4 else 2 if overlap >= 2 else 3) if in_gap else None
        bits = (2 | (1 if overlap == 4 else 0)) if in_gap else (4 if rng.random() < 0.5 else 8)
        if overlap + ours == 1:
            bits |= 16
        dr = round(min(99.0, rng.paretovariate(1.5) * 10), 1)
        rows.append({
            "campaign_id": campaign_id, "domain": f"site{i}.example-{i % 97}.com",
            "source": "import", "status": "new", "status_changed_at": now, "created_at": now,
            "updated_at": now, "in_gap": in_gap, "links_to_us": ours, "overlap": overlap,
            "tier": tier, "category_bits": bits, "competitors": linked,
            "backlinks": {c: rng.randint(1, 20) for c in linked}, "authority": dr,
            "traffic": int(dr * dr * rng.uniform(1, 50)), "dofollow": rng.random() < 0.8,
            "spam": False, "language": "en", "link_type": rng.choice(LINK_TYPES),
            "broken_link": rng.random() < 0.03, "score": round(rng.random(), 3),
            "score_parts": {
                "authority": {"value": dr / 100, "why": f"authority {dr:g} of 100"},
                "relevance": {"value": 0.67, "why": "mentions kanban, sprint"},
                "feasibility": {"value": 0.6, "why": "roundup/listicle page, links to 2 of 4"},
                "weights": {"authority": 0.35, "relevance": 0.4, "feasibility": 0.25},
                "why": {"link_type": 'URL contains "best-"', "angle": "roundups take new entries"},
            },
            "excluded_by": "directory" if rng.random() < 0.08 else None, "excluded_note": "",
            "restored": False, "target_confirmed": False, "link_type_manual": False,
            "angle": "roundup-inclusion", "notes": "", "last_import_id": import_id,
        })  # fmt: skip
    return rows


def _now() -> Any:
    from crm.models import utcnow

    return utcnow()


def _build(url: str, instance: Path) -> tuple[Flask, int]:
    """Migrate the database, add a manager, a campaign and N prospects; return the app."""
    import flask_migrate

    from crm import create_app
    from crm.core.campaigns import create_campaign
    from crm.core.users import create_user
    from crm.extensions import db
    from crm.models import GapImport, ImportState, Prospect, Role

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench", "ENCRYPTION_KEY": ENCRYPTION_KEY,
                      "RATELIMIT_ENABLED": False})  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade()
        create_user("manager@bench.example", Role.MANAGER, PASSWORD, "Bench")
        campaign = create_campaign("Bench", "our-site.com", COMPETITORS)
        snapshot = GapImport(campaign_id=campaign.id, state=ImportState.DONE,
                             finished_at=_now(), domain_count=N,
                             sites_covered=["our-site.com", *COMPETITORS])  # fmt: skip
        db.session.add(snapshot)
        db.session.flush()
        rows = _prospects(campaign.id, snapshot.id, N)
        chart: dict[str, dict[str, int]] = {"not_linking_to_us": {}, "linking_to_us": {}}
        for row in rows:
            side = chart["linking_to_us" if row["links_to_us"] else "not_linking_to_us"]
            side[str(row["overlap"])] = side.get(str(row["overlap"]), 0) + 1
        snapshot.overlap_chart = chart
        snapshot.gap_count = sum(1 for row in rows if row["in_gap"])
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Prospect), rows[start : start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        campaign_id = campaign.id
    return app, campaign_id


def _bare_app(url: str, campaign_id: int) -> Flask:
    """A bare Flask view running the page's two queries, rows joined into a minimal table."""
    from flask import request

    from crm.gap.queries import GapFilter, counts_statement, page_statement

    engine = create_engine(url)
    bare = Flask("bare")

    @bare.route("/gap")
    def gap() -> str:
        view = GapFilter.from_args(request.args)
        page = int(request.args.get("page", 1))
        with engine.connect() as conn:
            total, _hidden = conn.execute(counts_statement(campaign_id, view)).one()
            rows = conn.execute(page_statement(campaign_id, view, page, 50)).all()
        cells = "".join(
            f"<tr><td>{r.domain}</td><td>{r.tier}</td><td>{r.authority}</td><td>{r.score}</td></tr>"
            for r in rows
        )
        return f"<p>{total}</p><table>{cells}</table>"

    return bare


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _measure(url: str, label: str) -> list[BenchRow]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        app, campaign_id = _build(url, Path(folder))
        print(f"  {label}: {N:,} prospects ready in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)  # fmt: skip
        ours = app.test_client()
        login_page = ours.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', login_page)
        assert token is not None, "no CSRF token on the sign-in page"
        signed = ours.post("/login", data={"email": "manager@bench.example", "password": PASSWORD,
                                           "csrf_token": token.group(1)})  # fmt: skip
        assert signed.status_code == 302, signed.status_code
        bare = _bare_app(url, campaign_id).test_client()
        page_url = f"/campaigns/{campaign_id}/gap?{QUERY}"

        def get(client: Any, path: str) -> Callable[[], float]:
            def once() -> float:
                began = time.perf_counter()
                response = client.get(path)
                assert response.status_code == 200, response.status_code
                response.get_data()
                return time.perf_counter() - began

            return once

        timed_ours, timed_bare = get(ours, page_url), get(bare, f"/gap?{QUERY}")
        for _ in range(5):
            timed_ours()
            timed_bare()
        a: list[float] = []
        b: list[float] = []
        for _ in range(REQUESTS):
            a.append(timed_ours())
            b.append(timed_bare())
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
    return [
        BenchRow(f"gap table page p95, {N:,} prospects, filtered+sorted ({label})", _p95(a),
                 "bare Flask view, same queries", _p95(b), "s", "≤ 2×"),
    ]  # fmt: skip


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def run() -> list[BenchRow]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += _measure(f"sqlite:///{folder}/bench.db", "SQLite")
    pg = os.environ.get("BENCH_GAP_PG_URL")
    if pg:
        _reset_postgres(pg)
        rows += _measure(pg, "PostgreSQL")
    else:
        print("  PostgreSQL skipped: set BENCH_GAP_PG_URL to an empty database", file=sys.stderr)
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.figure}: {row.value * 1000:.1f} ms vs {row.baseline_value * 1000:.1f} ms "
              f"({row.ratio:.2f}x)")  # fmt: skip
