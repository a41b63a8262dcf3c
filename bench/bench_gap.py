"""Gap import of 5 exports x 400,000 rows, next to DuckDB and pandas (DESIGN §9).

Each contender runs in a fresh subprocess over the same cached files (see
bench/gap_data.py) and reports its own wall time (imports excluded) and peak
RSS. All three compute the per-referring-domain gap: the sites each domain
links to with live backlink counts, best authority, whether any link is
followed. Ours also keeps traffic, spam, language, the best evidence pages
and target URLs, i.e. it does what the import needs. Hosts are folded to
registrable domains with the same `registrable_domain` everywhere (DuckDB and
pandas call it once per distinct host), so the results agree.

The DuckDB and pandas baselines with the targets compute the same
per-domain gap as the import (evidence pages and target URLs included) and
hand it to Python; the counts-only DuckDB and pandas versions (what this
bench compared against before the import computed evidence with DuckDB) stay
in the table as references.

    python -m bench.bench_gap [ours|duckdb-gap|pandas-gap|duckdb|pandas] [--rows N] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from pathlib import Path

from bench.common import BenchRow
from bench.gap_data import ROWS, ensure_exports

CONTENDERS = ("ours", "duckdb-gap", "pandas-gap", "duckdb", "pandas")


class TreePeak:
    """Sample the resident memory of this process and its children; keep the peak.

    Worker processes of a parallel import count too: the peak is what the
    machine needed at once, not one process's share.
    """

    def __init__(self, interval: float = 0.2, exclude: Collection[int] = ()) -> None:
        self.interval = interval
        self.exclude = frozenset(exclude)  # processes (and their children) not counted
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeak:
        # This process's high-water mark must start here, not at whatever an
        # earlier phase of the bench (generating files, another run) reached:
        # ru_maxrss never goes down, but Linux resets VmHWM on request.
        _reset_own_peak()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, _own_peak_kib())

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(me, self.exclude))


def _reset_own_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass  # not Linux, or not allowed: the peak then covers the whole bench


def _own_peak_kib() -> int:
    """This process's peak resident memory since the last reset (VmHWM), in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _tree_rss_kib(root: int, exclude: Collection[int] = ()) -> int:
    """Sum VmRSS of a process and its descendants (via /proc/PID/task/*/children)."""
    total = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return total


def _ours(files: list[tuple[str, Path]], profile: bool) -> dict[str, float]:
    from crm.gap.compute import GapSettings, compute_gap
    from crm.gap.exports import inspect_export
    from crm.gap.reduce import reduce_exports

    def work() -> int:
        infos = [inspect_export(path) for _, path in files]
        settings = GapSettings(site=files[0][0], competitors=tuple(s for s, _ in files[1:]))
        with reduce_exports(infos, site=settings.site, competitors=settings.competitors) as found:
            return sum(
                1 for batch in found.batches() for row in compute_gap(batch, settings) if row.is_gap
            )

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    with TreePeak() as peak:
        start = time.perf_counter()
        gaps = work()
        elapsed = time.perf_counter() - start
    if profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    return {"seconds": elapsed, "gap_domains": gaps, "peak_mib": peak.mib}


def _host_map(hosts: list[str]) -> list[tuple[str, str]]:
    from crm.core.domains import DomainError, registrable_domain

    out = []
    for host in hosts:
        try:
            out.append((host, registrable_domain(host)))
        except DomainError:
            continue
    return out


def _duckdb(files: list[tuple[str, Path]], profile: bool) -> dict[str, float]:
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    con = duckdb.connect()
    parts = []
    for site, path in files:
        if "ahrefs" in path.name:
            parts.append(f"""
                SELECT '{site}' AS site, "Referring page URL" AS url,
                       "Domain rating" AS authority,
                       NOT ("Nofollow" OR "UGC" OR "Sponsored") AS dofollow,
                       coalesce("Lost", '') = '' AND coalesce("Lost status", '') = '' AS live
                FROM read_csv('{path}', encoding='utf-16', delim='\t', quote='"', header=true,
                              types={{'Lost': 'VARCHAR', 'Lost status': 'VARCHAR'}})""")
        else:
            parts.append(f"""
                SELECT '{site}' AS site, "Source url" AS url, "Page ascore" AS authority,
                       NOT ("Nofollow" OR "Sponsored" OR "Ugc") AS dofollow,
                       NOT "Lost link" AS live
                FROM read_csv('{path}', delim=',', header=true)""")
    con.execute(
        "CREATE TEMP TABLE links AS SELECT site, "
        "regexp_extract(url, '^[A-Za-z]+://([^/?#]+)', 1) AS host, "
        "CAST(authority AS DOUBLE) AS authority, dofollow, live FROM ("
        + " UNION ALL ".join(parts)
        + ")"
    )
    hosts = [r[0] for r in con.execute("SELECT DISTINCT host FROM links").fetchall()]
    hostmap = pd.DataFrame(_host_map(hosts), columns=["host", "domain"])
    con.register("hostmap", hostmap)
    our_site = files[0][0]
    gaps = con.execute(f"""
        WITH per_site AS (
            SELECT m.domain, l.site, count(*) FILTER (WHERE l.live) AS backlinks,
                   max(l.authority) AS authority, bool_or(l.dofollow) AS dofollow
            FROM links l JOIN hostmap m USING (host)
            GROUP BY m.domain, l.site),
        per_domain AS (
            SELECT domain, list(site) FILTER (WHERE backlinks > 0) AS sites,
                   map(list(site), list(backlinks)) AS counts, max(authority) AS authority,
                   bool_or(dofollow) AS dofollow
            FROM per_site GROUP BY domain)
        SELECT count(*) FROM per_domain
        WHERE NOT list_contains(sites, '{our_site}') AND len(sites) >= 1
    """).fetchone()[0]  # type: ignore[index]
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "gap_domains": gaps}


def _duckdb_gap(files: list[tuple[str, Path]], profile: bool) -> dict[str, float]:
    """DuckDB SQL computing the same per-(domain, site) gap the import computes, fetched.

    Live and lost counts, best authority and traffic, rel flags, spam,
    language, the best 5 distinct evidence pages and up to 20 target URLs per
    site — written as a DuckDB user would, the rows fetched into Python as
    any consumer of the gap (the snapshot writer) needs them.
    """
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    con = duckdb.connect()
    parts = []
    sep = "chr(31)"
    for site, path in files:
        if "ahrefs" in path.name:
            parts.append(f"""
                SELECT '{site}' AS site, "Referring page URL" AS url,
                       TRY_CAST("Domain rating" AS DOUBLE) AS authority,
                       TRY_CAST("Domain traffic" AS BIGINT) AS traffic,
                       "Nofollow" = 'true' AS nofollow, "UGC" = 'true' AS ugc,
                       "Sponsored" = 'true' AS sponsored, "Is spam" = 'true' AS spam,
                       coalesce("Lost", '') <> '' OR coalesce("Lost status", '') <> '' AS lost,
                       TRY_CAST("UR" AS DOUBLE) AS score, "Language" AS language,
                       "Target URL" AS target,
                       concat_ws({sep}, "Referring page URL", "Referring page title",
                                 "Target URL", "Anchor", "First seen", "Last seen",
                                 "Referring page HTTP code", "Language", "Page type",
                                 "Page category") AS evidence
                FROM read_csv('{path}', encoding='utf-16', delim='\t', quote='"', header=true,
                              all_varchar=true)""")
        else:
            parts.append(f"""
                SELECT '{site}' AS site, "Source url" AS url,
                       TRY_CAST("Page ascore" AS DOUBLE) AS authority, NULL::BIGINT AS traffic,
                       "Nofollow" = 'true' AS nofollow, "Ugc" = 'true' AS ugc,
                       "Sponsored" = 'true' AS sponsored, NULL::BOOLEAN AS spam,
                       "Lost link" = 'true' AS lost, TRY_CAST("Page ascore" AS DOUBLE) AS score,
                       NULL AS language, "Target url" AS target,
                       concat_ws({sep}, "Source url", "Source title", "Target url", "Anchor",
                                 "First seen", "Last seen") AS evidence
                FROM read_csv('{path}', delim=',', header=true, all_varchar=true)""")
    con.execute(
        "CREATE TEMP TABLE links AS SELECT *, "
        "regexp_extract(url, '^[A-Za-z]+://([^/?#]+)', 1) AS host, "
        "coalesce(floor(score / 10) * 10, 0) + CASE WHEN NOT (nofollow OR ugc OR sponsored) "
        "THEN 200 ELSE 0 END + CASE WHEN lost THEN 0 ELSE 1000 END AS rank FROM ("
        + " UNION ALL ".join(parts)
        + ")"
    )
    hosts = [r[0] for r in con.execute("SELECT DISTINCT host FROM links").fetchall()]
    hostmap = pd.DataFrame(_host_map(hosts), columns=["host", "domain"])
    con.register("hostmap", hostmap)
    con.execute(
        "CREATE TEMP TABLE l AS SELECT m.domain, l.* FROM links l JOIN hostmap m USING (host)"
    )
    rows = con.execute("""
        WITH per_site AS (
            SELECT domain, site, count(*) FILTER (WHERE NOT lost) AS backlinks,
                   count(*) FILTER (WHERE lost) AS lost, max(authority) AS authority,
                   max(traffic) AS traffic, bool_or(NOT (nofollow OR ugc OR sponsored)) AS dofollow,
                   bool_or(spam) AS spam, any_value(language) AS language,
                   (array_agg(DISTINCT target))[1:20] AS targets
            FROM l GROUP BY domain, site),
        pages AS (
            SELECT domain, site, url, max(rank) AS rank, arg_max(evidence, rank) AS evidence
            FROM l GROUP BY domain, site, url),
        best AS (
            SELECT domain, site, list(evidence ORDER BY rank DESC, url) AS evidence
            FROM (SELECT * FROM pages
                  QUALIFY row_number() OVER (PARTITION BY domain, site
                                             ORDER BY rank DESC, url) <= 5)
            GROUP BY domain, site)
        SELECT * FROM per_site JOIN best USING (domain, site)
    """).fetchall()
    our_site = files[0][0]
    linked: dict[str, set[str]] = {}
    for row in rows:
        if row[2] > 0:
            linked.setdefault(row[0], set()).add(row[1])
    gaps = sum(1 for sites in linked.values() if our_site not in sites)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "gap_domains": gaps}


def _pandas_gap(files: list[tuple[str, Path]], profile: bool) -> dict[str, float]:
    """pandas computing the same per-(domain, site) gap the import computes, as dicts."""
    import pandas as pd

    start = time.perf_counter()
    ahrefs = {
        "Referring page URL": "url", "Referring page title": "title", "Target URL": "target",
        "Anchor": "anchor", "First seen": "first_seen", "Last seen": "last_seen",
        "Referring page HTTP code": "http", "Language": "language", "Page type": "page_type",
        "Page category": "page_category", "Domain rating": "authority",
        "Domain traffic": "traffic", "UR": "score", "Nofollow": "nofollow", "UGC": "ugc",
        "Sponsored": "sponsored", "Is spam": "spam", "Lost": "lost", "Lost status": "lost_status",
    }  # fmt: skip
    semrush = {
        "Source url": "url", "Source title": "title", "Target url": "target", "Anchor": "anchor",
        "First seen": "first_seen", "Last seen": "last_seen", "Page ascore": "authority",
        "Nofollow": "nofollow", "Ugc": "ugc", "Sponsored": "sponsored", "Lost link": "lost",
    }  # fmt: skip
    frames = []
    for site, path in files:
        names = ahrefs if "ahrefs" in path.name else semrush
        df = pd.read_csv(
            path,
            encoding="utf-16" if "ahrefs" in path.name else "utf-8",
            sep="\t" if "ahrefs" in path.name else ",",
            dtype=str,
            keep_default_na=False,
            usecols=list(names),
        ).rename(columns=names)
        if "ahrefs" in path.name:
            df["lost"] = (df["lost"] != "") | (df.pop("lost_status") != "")
            df["spam"] = df["spam"] == "true"
            df["traffic"] = pd.to_numeric(df["traffic"])
            df["score"] = pd.to_numeric(df["score"])
        else:
            df["lost"] = df["lost"] == "true"
            df["score"] = pd.to_numeric(df["authority"])
        df["authority"] = pd.to_numeric(df["authority"])
        df["dofollow"] = ~((df.pop("nofollow") == "true") | (df.pop("ugc") == "true")
                           | (df.pop("sponsored") == "true"))  # fmt: skip
        df["site"] = site
        frames.append(df)
    links = pd.concat(frames, ignore_index=True)
    links["host"] = links["url"].str.extract(r"^[A-Za-z]+://([^/?#]+)", expand=False)
    mapping = dict(_host_map(list(links["host"].dropna().unique())))
    links["domain"] = links["host"].map(mapping)
    links["rank"] = (
        (links["score"].fillna(0) // 10) * 10 + links["dofollow"] * 200 + (~links["lost"]) * 1000
    )
    keys = ["domain", "site"]
    links["live"] = ~links["lost"]
    per_site = links.groupby(keys).agg(
        backlinks=("live", "sum"),
        lost=("lost", "sum"),
        authority=("authority", "max"),
        traffic=("traffic", "max"),
        dofollow=("dofollow", "any"),
        spam=("spam", "any"),
    )
    languages = links[links["language"].fillna("") != ""].groupby(keys)["language"].first()
    best = (
        links.sort_values("rank", ascending=False, kind="stable")
        .drop_duplicates([*keys, "url"])
        .groupby(keys)
        .head(5)
    )
    text = best["url"].str.cat(
        [best[c].fillna("") for c in ("title", "target", "anchor", "first_seen", "last_seen")],
        sep="\x1f",
    )
    evidence = text.groupby([best["domain"], best["site"]]).agg(list)
    targets = (
        links[links["target"] != ""]
        .drop_duplicates([*keys, "target"])
        .groupby(keys)
        .head(20)
        .groupby(keys)["target"]
        .agg(list)
    )
    facts = per_site.join(languages).join(evidence.rename("evidence")).join(targets)
    rows = facts.reset_index().to_dict("records")
    linked: dict[str, set[str]] = {}
    for row in rows:
        if row["backlinks"] > 0:
            linked.setdefault(row["domain"], set()).add(row["site"])
    gaps = sum(1 for sites in linked.values() if files[0][0] not in sites)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "gap_domains": gaps}


def _pandas(files: list[tuple[str, Path]], profile: bool) -> dict[str, float]:
    import pandas as pd

    start = time.perf_counter()
    frames = []
    for site, path in files:
        if "ahrefs" in path.name:
            df = pd.read_csv(
                path,
                encoding="utf-16",
                sep="\t",
                dtype=str,
                keep_default_na=False,
                usecols=[
                    "Referring page URL",
                    "Domain rating",
                    "Nofollow",
                    "UGC",
                    "Sponsored",
                    "Lost",
                    "Lost status",
                ],
            )
            frame = pd.DataFrame(
                {
                    "url": df["Referring page URL"],
                    "authority": pd.to_numeric(df["Domain rating"]),
                    "dofollow": (df["Nofollow"] == "false")
                    & (df["UGC"] == "false")
                    & (df["Sponsored"] == "false"),
                    "live": (df["Lost"] == "") & (df["Lost status"] == ""),
                }
            )
        else:
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                usecols=["Source url", "Page ascore", "Nofollow", "Sponsored", "Ugc", "Lost link"],
            )
            frame = pd.DataFrame(
                {
                    "url": df["Source url"],
                    "authority": pd.to_numeric(df["Page ascore"]),
                    "dofollow": (df["Nofollow"] == "false")
                    & (df["Sponsored"] == "false")
                    & (df["Ugc"] == "false"),
                    "live": df["Lost link"] == "false",
                }
            )
        frame["site"] = site
        frames.append(frame)
    links = pd.concat(frames, ignore_index=True)
    links["host"] = links["url"].str.extract(r"^[A-Za-z]+://([^/?#]+)", expand=False)
    mapping = dict(_host_map(list(links["host"].dropna().unique())))
    links["domain"] = links["host"].map(mapping)
    per_site = (
        links.groupby(["domain", "site"])
        .agg(
            backlinks=("live", "sum"), authority=("authority", "max"), dofollow=("dofollow", "any")
        )
        .reset_index()
    )
    linked = per_site[per_site["backlinks"] > 0]
    ours = set(linked.loc[linked["site"] == files[0][0], "domain"])
    per_domain = per_site.groupby("domain").agg(
        authority=("authority", "max"), dofollow=("dofollow", "any")
    )
    gap_domains = set(linked["domain"]) - ours
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "gap_domains": len(gap_domains & set(per_domain.index))}


def _measure(name: str, rows: int) -> dict[str, float]:
    """Run one contender in a fresh interpreter; return its figures.

    `cpu_seconds` is the user + system time of the whole process tree
    (interpreter start included): less sensitive than wall time to other
    work on a shared machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_gap", name, "--rows", str(rows)],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return figures


def run(rows: int = ROWS) -> list[BenchRow]:
    """Measure the three contenders over the same files; return the table rows."""
    ensure_exports(rows)
    figures = {name: _measure(name, rows) for name in CONTENDERS}
    ours, gap, pandas_gap, duck, pandas = (figures[n] for n in CONTENDERS)
    label = f"gap import 5 x {rows:,} rows"
    return [
        BenchRow(
            f"{label}: time",
            ours["seconds"],
            "DuckDB SQL, same per-domain gap",
            gap["seconds"],
            target="<= 1.5x",
        ),
        BenchRow(
            f"{label}: time",
            ours["seconds"],
            "pandas, same per-domain gap",
            pandas_gap["seconds"],
            target="< 1x",
        ),
        BenchRow(
            f"{label}: time",
            ours["seconds"],
            "DuckDB SQL, counts only (no evidence)",
            duck["seconds"],
        ),
        BenchRow(
            f"{label}: time",
            ours["seconds"],
            "pandas, counts only (no evidence)",
            pandas["seconds"],
        ),
        BenchRow(
            f"{label}: CPU, all processes",
            ours["cpu_seconds"],
            "DuckDB SQL, same per-domain gap",
            gap["cpu_seconds"],
        ),
        BenchRow(
            f"{label}: peak memory",
            ours["peak_mib"],
            "DuckDB, same per-domain gap",
            gap["peak_mib"],
            unit="MiB",
            target="<= 1024 MiB",
        ),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", nargs="?", choices=CONTENDERS)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--profile", action="store_true", help="cProfile ours to stderr")
    args = parser.parse_args(argv)
    files = ensure_exports(args.rows)
    if args.contender is None:
        for row in run(args.rows):
            print(
                f"{row.figure}: {row.value:.2f} {row.unit} vs {row.baseline} "
                f"{row.baseline_value:.2f} {row.unit} ({row.ratio:.2f}x)"
            )
        return 0
    worker = {
        "ours": _ours,
        "duckdb-gap": _duckdb_gap,
        "pandas-gap": _pandas_gap,
        "duckdb": _duckdb,
        "pandas": _pandas,
    }[args.contender]
    with TreePeak() as peak:
        figures = worker(files, args.profile)
    figures.setdefault("peak_mib", peak.mib)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
