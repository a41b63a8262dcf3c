"""Reduce large page-level exports (Ahrefs and Semrush Backlinks) with DuckDB.

Why: the streaming reducer (crm.gap.slots) costs ~15 µs of Python per row, so
five 400,000-row exports take half a minute; DuckDB parses the CSV and folds
the rows in C++ on every core. It computes exactly what the streaming
reducer computes, by the same rules: per (referring domain, site) the live
and lost link counts, best authority and traffic, the rel flags seen, spam,
the first language in file order, the first TARGETS_PER_SITE target URLs in
file order, and the best EVIDENCE_PER_SITE distinct pages by (rank, first
seen) — a page counting with its best row. `rowid` of the rows table is the
file order (DuckDB keeps insertion order), so "first" means the same here.

Face value only. A cell the fast loops of the streaming readers would not
take as it is (`1,240`, `—`, `TRUE`, a score above 100), a CSV grammar or
encoding problem, or a host that is not a domain makes `reduce_columnar`
return None, and the caller reads the files with the streaming reducer,
which reads odd cells carefully and reports file, line and column. So both
engines give the same facts, and every error message is the streaming one.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from crm.gap.columnar_rows import EVIDENCE_TEXT, SEP, as_utf8, codec_of, rows_sql
from crm.gap.exports import FORMAT_BY_ID, ExportInfo, ReadStats
from crm.gap.exports.base import DomainFolder
from crm.gap.exports.reader import check_header
from crm.gap.slots import Slots

# The formats read here: their rows are one link each, their fast loops the rules.
FAST_FORMATS = frozenset({"ahrefs-backlinks", "semrush-backlinks"})
# rank * _SHIFT - rowid orders rows by rank, then first seen, as one BIGINT.
_SHIFT = 1 << 32
MEMORY_LIMIT = os.environ.get("CRM_IMPORT_DUCKDB_MEMORY", "256MB")


@dataclass(frozen=True)
class ColumnarResult:
    """The slots of the files read here (targets as URLs) and each file's stats."""

    slots: Slots
    stats: list[ReadStats]


def can_read(info: ExportInfo) -> bool:
    """Tell whether this file can go through DuckDB (a plain page-level export)."""
    return (
        info.format_id in FAST_FORMATS
        and info.member is None
        and not info.multi_site
        and FORMAT_BY_ID[info.format_id].has_fast_columns(info)
        and codec_of(info) is not None
    )


def available() -> bool:
    """Tell whether DuckDB is installed."""
    try:
        import duckdb  # noqa: F401
    except ImportError:  # pragma: no cover - it is a dependency
        return False
    return True


def reduce_columnar(
    infos: Sequence[ExportInfo],
    evidence_limit: int,
    targets_limit: int,
    on_read: Callable[[int], None] | None = None,
) -> ColumnarResult | None:
    """Fold these files into per-(domain, site) slots, or None when any is not at face value.

    One site's files at a time: a site's slots never meet another site's, so
    nothing is merged, and DuckDB holds one site's rows at most. `on_read`
    is told the bytes of each site's files once they are folded (progress).
    """
    for info in infos:
        check_header(info)  # ExportError when the file changed since it was inspected
    folder = DomainFolder()
    slots: Slots = {}
    interned: dict[str, str] = {}  # one string per target URL across sites, as streaming
    stats: dict[int, ReadStats] = {}
    by_site: dict[str, list[int]] = {}
    for i, info in enumerate(infos):
        by_site.setdefault(info.owners[0], []).append(i)
    groups = list(by_site.values())
    with (
        tempfile.TemporaryDirectory(prefix="linkgap-import-") as scratch,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-import-load") as pool,
    ):
        # A pipeline: the next site's file is read by DuckDB (which lets go of the
        # interpreter) while Python builds this site's slots.
        def load(n: int) -> Future[Loaded | None]:
            return pool.submit(_load_site, [infos[i] for i in groups[n]], n, scratch)

        pending = load(0) if groups else None
        try:
            for n, group in enumerate(groups):
                assert pending is not None
                loaded = pending.result()
                pending = load(n + 1) if n + 1 < len(groups) else None
                if loaded is None:
                    return None
                with closing(loaded.con):
                    if not _fold_site(
                        loaded.con, folder, slots, interned, evidence_limit, targets_limit
                    ):
                        return None
                if on_read is not None:
                    on_read(sum(infos[i].size for i in group))
                stats.update(
                    (i, ReadStats(records=c)) for i, c in zip(group, loaded.counts, strict=True)
                )
        finally:
            if pending is not None:
                late = pending.result()
                if late is not None:
                    late.con.close()
    return ColumnarResult(slots, [stats[i] for i in range(len(infos))])


@dataclass
class Loaded:
    """One site's rows, read into a DuckDB database of their own, and each file's count."""

    con: Any
    counts: list[int]


def _load_site(infos: list[ExportInfo], number: int, scratch: str) -> Loaded | None:
    """Read one site's files into a rows table (None: not at face value)."""
    import duckdb

    paths = []
    for i, info in enumerate(infos):
        path = as_utf8(info, scratch, number * 1000 + i)
        if path is None:
            return None  # an encoding error: the streaming reader says where
        paths.append(path)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        # Spill to disk past this: the import's peak memory must stay under 1 GiB.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{scratch}'")
        # Hand freed memory back at once: the slots of the sites done keep growing.
        con.execute("SET allocator_flush_threshold = '16MB'")
        con.execute("SET allocator_bulk_deallocation_flush_threshold = '16MB'")
        try:
            con.execute(rows_sql(infos, paths))
        except duckdb.Error:
            con.close()
            return None  # grammar or width: the streaming reader says where
        per_file = con.execute(
            "SELECT file, count(*), count(*) FILTER (WHERE bad) FROM r GROUP BY file"
        ).fetchall()
        counts = {file: rows for file, rows, _ in per_file}
        bad = sum(n for _, _, n in per_file)
    except BaseException:
        con.close()
        raise
    finally:
        for path in paths:
            if path.startswith(scratch):
                os.unlink(path)
    if bad:
        con.close()
        return None
    return Loaded(con, [counts.get(i, 0) for i in range(len(infos))])


def _fold_site(
    con: Any,
    folder: DomainFolder,
    slots: Slots,
    interned: dict[str, str],
    evidence_limit: int,
    targets_limit: int,
) -> bool:
    """Fold one site's rows table into the slots (False: a host that is not a domain)."""
    keys = [key for (key,) in con.execute("SELECT DISTINCT key FROM r").fetchall()]
    # The per-key aggregates run on a second connection (DuckDB lets go of the
    # interpreter) while this thread folds the hosts to domains in Python.
    failure: list[BaseException] = []
    worker = threading.Thread(
        target=_per_key, args=(con.cursor(), evidence_limit, failure), daemon=True
    )
    worker.start()
    try:
        domains = [folder.url(key) for key in keys]
    except ValueError:
        return False
    finally:
        worker.join()
    if failure:
        raise failure[0]
    con.execute(
        "CREATE TABLE hm AS SELECT unnest($1::VARCHAR[]) AS key, unnest($2::VARCHAR[]) AS domain",
        [keys, domains],
    )
    _fold(con, slots, interned, evidence_limit, targets_limit)
    return True


def _per_key(cursor: Any, evidence_limit: int, failure: list[BaseException]) -> None:
    """Aggregate the rows table per (host key, site): everything that needs no domain yet."""
    try:
        cursor.execute("""
            CREATE TABLE agg_key AS
            SELECT key, site, count(*) FILTER (WHERE NOT lost) AS live,
                   count(*) FILTER (WHERE lost) AS gone, max(authority) AS authority,
                   max(traffic) AS traffic,
                   bit_or(CASE WHEN rel < 0 THEN 1 ELSE 1 << (rel + 1) END) AS rels,
                   bool_or(spam) AS spam,
                   arg_min(language, rowid) FILTER (WHERE language <> '') AS language,
                   min(rowid) FILTER (WHERE language <> '') AS language_at,
                   min(rowid) AS first_seq
            FROM r GROUP BY key, site""")
        cursor.execute(f"""
            CREATE TABLE best_key AS
            SELECT key, site, max(k, {evidence_limit}) AS ks
            FROM (SELECT key, site, max(rank * {_SHIFT} - rowid) AS k
                  FROM r GROUP BY key, site, page)
            GROUP BY key, site""")
        # Targets travel as ids into one list of names: a few thousand URLs, millions of links.
        cursor.execute("""
            CREATE TABLE names AS
            SELECT target, (row_number() OVER () - 1)::INTEGER AS id
            FROM (SELECT DISTINCT target FROM r WHERE target <> '')""")
        cursor.execute("""
            CREATE TABLE linked_key AS
            SELECT key, site, id, min(r.rowid) AS seq
            FROM r JOIN names USING (target) GROUP BY key, site, id""")
    except BaseException as exc:  # handed to the folding thread
        failure.append(exc)
    finally:
        cursor.close()


def _fold(
    con: Any, slots: Slots, interned: dict[str, str], evidence_limit: int, targets_limit: int
) -> None:
    """Aggregate the per-key tables per (domain, site) into the slots, in first-seen order."""
    run = con.execute
    run("""
        CREATE TABLE agg AS
        SELECT domain, site, sum(live) AS live, sum(gone) AS gone, max(authority) AS authority,
               max(traffic) AS traffic, bit_or(rels) AS rels, bool_or(spam) AS spam,
               arg_min(language, language_at) AS language, min(first_seq) AS first_seq
        FROM agg_key JOIN hm USING (key)
        GROUP BY domain, site""")
    run(f"""
        CREATE TABLE best AS
        WITH per_domain AS (
            SELECT domain, site, max(k, {evidence_limit}) AS ks
            FROM (SELECT domain, site, unnest(ks) AS k FROM best_key JOIN hm USING (key))
            GROUP BY domain, site
        )
        SELECT domain, site, (k + {_SHIFT - 1}) // {_SHIFT} AS rank,
               (k + {_SHIFT - 1}) // {_SHIFT} * {_SHIFT} - k AS seq
        FROM (SELECT domain, site, unnest(ks) AS k FROM per_domain)""")
    # What is fetched, computed before the rows table is dropped: its memory is
    # free again by the time Python builds the slots. Lists come in file order.
    run(f"""
        CREATE TABLE kept AS
        SELECT b.domain, b.site, CAST(b.rank AS DOUBLE) AS rank, b.seq,
               concat_ws({SEP}, {EVIDENCE_TEXT}) || {SEP} || r.rel || {SEP} ||
                 CASE WHEN r.lost THEN r.lost_text ELSE '' END AS text
        FROM best b JOIN r ON r.rowid = b.seq""")
    run(f"""
        CREATE TABLE linked AS
        SELECT domain, site,
               array_to_string(list(id ORDER BY seq)[1:{targets_limit}], ',') AS ids
        FROM (
            SELECT domain, site, id, min(seq) AS seq
            FROM linked_key JOIN hm USING (key)
            GROUP BY domain, site, id
        ) GROUP BY domain, site""")
    run("DROP TABLE r")
    names = [
        interned.setdefault(url, url)
        for (url,) in run("SELECT target FROM names ORDER BY id").fetchall()
    ]
    result = run("""
        SELECT domain, site, live, gone, authority, traffic, rels, spam, language, l.ids
        FROM agg LEFT JOIN linked l USING (domain, site)
        ORDER BY first_seq""")
    while batch := result.fetchmany(50_000):
        for (
            domain,
            site,
            live,
            gone,
            authority,
            traffic,
            rels,
            spam,
            language,
            ids,
        ) in batch:
            per = slots.get(domain)
            if per is None:
                per = slots[domain] = {}
            per[site] = [
                live,
                gone,
                authority if authority is not None else -1.0,
                traffic if traffic is not None else -1,
                rels,
                spam,
                language or "",
                None,
                [names[int(i)] for i in ids.split(",")] if ids else None,
                0.0,
            ]
    # Evidence comes flat in file order: each slot's list fills in arrival order.
    result = run("SELECT domain, site, rank, text FROM kept ORDER BY seq")
    while batch := result.fetchmany(100_000):
        for domain, site, rank, text in batch:
            slot = slots[domain][site]
            if slot[7] is None:
                slot[7] = [(rank, text)]
                slot[9] = rank
            else:
                slot[7].append((rank, text))
                if rank < slot[9]:
                    slot[9] = rank
