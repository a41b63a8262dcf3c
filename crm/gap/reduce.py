"""Reduce every export of one import to per-referring-domain facts, in DuckDB.

The files' links are loaded into one table (crm.gap.exports.table) and
folded in SQL per (referring domain, site): live and lost link counts, best
authority and traffic, the rel flags seen, spam, the first language in file
order, the first TARGETS_PER_SITE target URLs in file order, and the best
EVIDENCE_PER_SITE distinct pages by (rank, first seen) — a page counting
with its best row. The facts stay in DuckDB (spilling to disk past its
memory limit) and reach Python a batch of domains at a time, so an import of
a million referring domains never holds them all as Python objects.

Every file is read to the end before anything is returned, so a bad file
fails the whole import and the caller writes nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson

from crm.gap.exports import Evidence, ExportError, ExportInfo, LinkTable, ReadStats
from crm.gap.exports.sql import evidence_sql
from crm.gap.facts import DomainFacts, FileSummary
from crm.gap.page_rules import PageVerdict, judged_sql, verdict_key, verdict_of

# The best pages kept per referring domain and site ("why they got the link").
EVIDENCE_PER_SITE = 3
TARGETS_PER_SITE = 20
# Domains per batch handed to Python.
BATCH = 5_000
_domain_of = itemgetter(0)
_domain_and_site = itemgetter(0, 1)
_page = itemgetter(2)
_verdict = itemgetter(3)
# A page's fields (exactly Evidence's, in order) as an Evidence, in C: 700,000 pages
# in a big import.
_evidence = partial(tuple.__new__, Evidence)

# Evidence rank = live bonus + followed bonus + the page's own score (0-100) in
# steps of 10: a live page first (a lost one shows nothing today), then a
# followed one, then the strongest page. Finer steps would only reshuffle
# near-equal pages.
EVIDENCE_LIVE = 1000
EVIDENCE_DOFOLLOW = 200
EVIDENCE_SCORE_STEP = 10
_RANK = (
    f"CAST(coalesce(floor(l.score / {EVIDENCE_SCORE_STEP}) * {EVIDENCE_SCORE_STEP}, 0) AS BIGINT)"
    f" + CASE WHEN l.rel = 0 THEN {EVIDENCE_DOFOLLOW} ELSE 0 END"
    f" + CASE WHEN l.lost THEN 0 ELSE {EVIDENCE_LIVE} END"
)
# rank * _SHIFT - row orders rows by rank, then first seen, as one BIGINT.
_SHIFT = 1 << 32
# Target URL ids are below this (16 million distinct URLs in one import).
_IDS = 1 << 24

# Bits of the "rels seen" mask: bit 0 = a link whose rel is unknown, bit rel+1 = LinkRow.rel.
SEEN_UNKNOWN = 1
SEEN_DOFOLLOW = 1 << 1
# rel combinations that are neither sponsored nor UGC (nofollow alone counts).
_EDITORIAL_MASK = sum(1 << (rel + 1) for rel in range(8) if not rel & 0b110)


def check_owners(infos: Iterable[ExportInfo], site: str, competitors: Sequence[str]) -> None:
    """Refuse a single-site export whose owner is not in the campaign (ExportError)."""
    allowed = {site, *competitors}
    names = ", ".join(competitors) or "none"
    for info in infos:
        if info.multi_site:
            if not allowed & set(info.owners):
                raise ExportError(
                    info.display_name,
                    None,
                    None,
                    f"this export compares {', '.join(info.owners)}, none of which "
                    f"is the campaign's site ({site}) or one of its competitors "
                    f"({names})",
                )
            continue
        for owner in info.owners:
            if owner not in allowed:
                raise ExportError(
                    info.display_name,
                    None,
                    None,
                    f"this export is for {owner}, which is neither the campaign's "
                    f"site ({site}) nor one of its competitors ({names})",
                )


class Reduction:
    """The facts of one import per referring domain, in the import's DuckDB database.

    `sites` are the sites the files cover, `files` what each contributed.
    Use as a context manager (or call close()) to drop the database.
    """

    def __init__(
        self, table: LinkTable, sites: tuple[str, ...], files: tuple[FileSummary, ...]
    ) -> None:
        self._table = table
        self._con: Any = table.con
        self.sites = sites
        self.files = files
        self._ready = False

    def __enter__(self) -> Reduction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the import's database."""
        self._table.close()

    def covered(self, site: str) -> bool:
        """Tell whether any file of the import is an export of this site."""
        return site in self.sites

    def carry(self, rows: Iterable[tuple[str, str, int, Any, Any, Any, Any]]) -> None:
        """Add facts of sites this import has no export of (the previous snapshot's).

        Each row is (domain, site, backlinks, authority, traffic, dofollow, spam).
        """
        if self._ready:
            raise RuntimeError("carry before reading the facts")
        columns: list[list[Any]] = [[] for _ in range(7)]
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        if not columns[0]:
            return
        self._con.execute(
            """
            INSERT INTO site_facts (domain, site, live, gone, authority, traffic, rels, spam,
                                    first_at)
            SELECT domain, site, live, 0, authority, traffic,
                   CASE WHEN dofollow THEN 2 WHEN NOT dofollow THEN 4 ELSE 1 END, spam,
                   9223372036854775807
            FROM (SELECT unnest($1::VARCHAR[]) AS domain, unnest($2::VARCHAR[]) AS site,
                         unnest($3::BIGINT[]) AS live, unnest($4::DOUBLE[]) AS authority,
                         unnest($5::BIGINT[]) AS traffic, unnest($6::BOOLEAN[]) AS dofollow,
                         unnest($7::BOOLEAN[]) AS spam)""",
            columns,
        )

    def __len__(self) -> int:
        self._prepare()
        return int(self._con.execute("SELECT count(*) FROM domains").fetchone()[0])

    def facts(self) -> dict[str, DomainFacts]:
        """Return every domain's facts at once (tests and small imports)."""
        return {fact.domain: fact for batch in self.batches() for fact in batch}

    def batches(self, size: int = BATCH, *, judged: bool = False) -> Iterator[list[DomainFacts]]:
        """Yield the domains' facts, a batch at a time, in domain order.

        Three ordered streams (domains, evidence, targets) are read side by
        side, so each table is scanned once whatever the number of batches.
        `judged`: the facts carry their pages' verdicts (crm.gap.page_rules),
        judged here in one query rather than a batch at a time later.
        """
        self._prepare()
        fields = ", ".join(Evidence._fields)
        # Lists reach Python as text: DuckDB builds a Python list an element at a time.
        domains = self._con.cursor().execute(
            "SELECT domain, authority, traffic, rels, spam, language, array_to_string(sites, ' '),"
            " array_to_string(live, ' '), array_to_string(gone, ' ') FROM domains ORDER BY domain"
        )
        # A page's fields as one JSON array: DuckDB hands Python a value at a time, and
        # 12 values for each of 700,000 pages took seconds.
        source = judged_sql("SELECT * FROM evidence") if judged else "SELECT * FROM evidence"
        verdict = "verdict" if judged else "NULL"
        pages = _Stream(
            self._con.cursor().execute(
                f"SELECT domain, site, json_array({fields})::VARCHAR, {verdict}"
                f" FROM ({source}) ORDER BY domain, site, rank DESC, seq"
            )
        )
        names = [
            url for (url,) in self._con.execute("SELECT target FROM names ORDER BY id").fetchall()
        ]
        linked = _Stream(
            self._con.cursor().execute(
                "SELECT domain, site, array_to_string(ids, ' ') FROM linked ORDER BY domain, site"
            )
        )
        name_of = names.__getitem__
        while rows := domains.fetchmany(size):
            last = rows[-1][0]
            evidence: dict[str, dict[str, tuple[Evidence, ...]]] = {}
            verdicts: dict[str, dict[tuple[Any, ...], PageVerdict]] = {}
            for (domain, site), group in groupby(pages.upto(last), key=_domain_and_site):
                listed = list(group)
                found = tuple(map(_evidence, map(orjson.loads, map(_page, listed))))
                evidence.setdefault(domain, {})[site] = found
                if judged:
                    judged_pages = map(verdict_of, map(_verdict, listed))
                    verdicts.setdefault(domain, {}).update(
                        zip(map(verdict_key, found), judged_pages, strict=True)
                    )
            targets: dict[str, dict[str, tuple[str, ...]]] = {}
            for domain, site, ids in linked.upto(last):
                targets.setdefault(domain, {})[site] = tuple(map(name_of, map(int, ids.split())))
            yield [_facts(row, evidence, targets, verdicts if judged else None) for row in rows]

    def _prepare(self) -> None:
        """Build the per-domain table once every site's facts are in."""
        if self._ready:
            return
        self._ready = True
        self._con.execute("""
            CREATE TABLE domains AS
            SELECT domain, max(authority) AS authority, max(traffic) AS traffic,
                   bit_or(rels) AS rels, bool_or(spam) AS spam,
                   arg_min(language, language_at) AS language,
                   list(site ORDER BY first_at, site) AS sites,
                   list(live ORDER BY first_at, site) AS live,
                   list(gone ORDER BY first_at, site) AS gone
            FROM site_facts GROUP BY domain""")


class _Stream:
    """Rows of an ordered query (by domain first), taken up to a domain at a time."""

    def __init__(self, result: Any, size: int = BATCH) -> None:
        self._result = result
        self._size = size
        self._rows: list[Any] = []

    def upto(self, last: str) -> list[Any]:
        """Return the rows whose domain is at most `last` (the order DuckDB and Python share)."""
        taken: list[Any] = []
        while True:
            if not self._rows:
                self._rows = self._result.fetchmany(self._size)
                if not self._rows:
                    return taken
            end = bisect_right(self._rows, last, key=_domain_of)
            taken += self._rows[:end]
            if end < len(self._rows):
                del self._rows[:end]
                return taken
            self._rows = []


def _facts(
    row: tuple[Any, ...],
    evidence: dict[str, dict[str, tuple[Evidence, ...]]],
    targets: dict[str, dict[str, tuple[str, ...]]],
    verdicts: dict[str, dict[tuple[Any, ...], PageVerdict]] | None,
) -> DomainFacts:
    domain, authority, traffic, rels, spam, language, sites, live, gone = row
    names = sites.split()
    known = rels & ~SEEN_UNKNOWN
    return DomainFacts(
        domain,
        backlinks={s: n for s, x in zip(names, live.split(), strict=True) if (n := int(x))},
        lost={s: n for s, x in zip(names, gone.split(), strict=True) if (n := int(x))},
        authority=authority,
        traffic=traffic,
        dofollow=bool(rels & SEEN_DOFOLLOW) if known else None,
        paid_or_ugc_only=bool(known) and not known & _EDITORIAL_MASK,
        spam=spam,
        language=language or None,
        evidence=evidence.get(domain, {}),
        targets=targets.get(domain, {}),
        verdicts=None if verdicts is None else verdicts.get(domain, {}),
    )


def reduce_exports(
    infos: Sequence[ExportInfo],
    *,
    site: str | None = None,
    competitors: Sequence[str] = (),
    evidence_per_site: int = EVIDENCE_PER_SITE,
    targets_per_site: int = TARGETS_PER_SITE,
    on_progress: Callable[[int, int], None] | None = None,
) -> Reduction:
    """Read every export fully and fold them into per-domain facts.

    With `site`, single-site exports of other domains are refused and the
    columns of multi-site exports that are not in the campaign are ignored
    (listed in the file summary). `on_progress(done, total)` is told the
    bytes read so far. Raises ExportError for the first bad file, in the
    order given; nothing is returned then.
    """
    allowed = {site, *competitors} if site is not None else None
    if site is not None:
        check_owners(infos, site, competitors)
    ignored_by_file = [
        tuple(s for s in info.owners if s not in allowed)
        if allowed is not None and info.multi_site
        else ()
        for info in infos
    ]
    progress = _Progress(on_progress, sum(info.size for info in infos))
    table = LinkTable(infos)
    try:
        stats: list[ReadStats] = []
        for info, ignored in zip(infos, ignored_by_file, strict=True):
            stats.append(table.load(info, ignored, progress.add))
        progress.finish()
        _fold(table.con, evidence_per_site, targets_per_site)
    except BaseException:
        table.close()
        raise
    sites: dict[str, None] = {}
    for info, ignored in zip(infos, ignored_by_file, strict=True):
        for owner in info.owners:
            if owner not in ignored:
                sites.setdefault(owner)
    linking = dict(
        table.con.execute(
            "SELECT site, count(*) FROM site_facts WHERE live > 0 GROUP BY site"
        ).fetchall()
    )
    summaries = tuple(
        FileSummary(
            display_name=info.display_name,
            format_id=info.format_id,
            label=info.label,
            owners=info.owners,
            records=found.records,
            skipped=found.skipped,
            skipped_lines=tuple(found.skipped_lines),
            domains=sum(linking.get(o, 0) for o in info.owners if o not in ignored),
            ignored_sites=ignored,
        )
        for info, ignored, found in zip(infos, ignored_by_file, stats, strict=True)
    )
    return Reduction(table, tuple(sites), summaries)


def _fold(con: Any, evidence_limit: int, targets_limit: int) -> None:
    """Fold the links table per (domain, site): facts, best evidence pages, first targets.

    Each aggregate runs per (host key, site) first — what needs no domain —
    and only those few rows are joined to their domains and merged.
    """
    con.execute("""
        CREATE TABLE site_facts AS
        SELECT f.domain, k.site, sum(k.live) AS live, sum(k.gone) AS gone,
               max(k.authority) AS authority, max(k.traffic) AS traffic, bit_or(k.rels) AS rels,
               bool_or(k.spam) AS spam, arg_min(k.language, k.language_at) AS language,
               min(k.language_at) AS language_at, min(k.first_at) AS first_at
        FROM (SELECT key, site,
                     coalesce(sum(backlinks) FILTER (WHERE NOT lost), 0) AS live,
                     coalesce(sum(backlinks) FILTER (WHERE lost), 0) AS gone,
                     max(authority) AS authority, max(traffic) AS traffic,
                     bit_or(CASE WHEN rel < 0 THEN 1 ELSE 1 << (rel + 1) END) AS rels,
                     bool_or(spam) AS spam,
                     arg_min(language, rowid) FILTER (WHERE language <> '') AS language,
                     min(rowid) FILTER (WHERE language <> '') AS language_at,
                     min(rowid) AS first_at
              FROM links GROUP BY key, site) k
        JOIN folded f USING (key)
        GROUP BY f.domain, k.site""")
    # The best row of each page, the best pages of each (key, site), then of each (domain, site).
    con.execute(f"""
        CREATE TABLE evidence AS
        WITH pages AS (
            SELECT key, site, max(({_RANK}) * {_SHIFT} - rowid) AS k
            FROM links l WHERE page IS NOT NULL GROUP BY key, site, page
        ), per_key AS (
            SELECT key, site, max(k, {evidence_limit}) AS ks FROM pages GROUP BY key, site
        ), best AS (
            SELECT f.domain, p.site, unnest(max(k, {evidence_limit})) AS k
            FROM (SELECT key, site, unnest(ks) AS k FROM per_key) p JOIN folded f USING (key)
            GROUP BY f.domain, p.site
        )
        SELECT b.domain, b.site, (b.k + {_SHIFT - 1}) // {_SHIFT} AS rank,
               (b.k + {_SHIFT - 1}) // {_SHIFT} * {_SHIFT} - b.k AS seq,
               {evidence_sql("l")}
        FROM best b JOIN links l ON l.rowid = (b.k + {_SHIFT - 1}) // {_SHIFT} * {_SHIFT} - b.k""")
    # The first target URLs of each (key, site) in file order, then of each (domain, site);
    # as ids into one list of names (a few thousand URLs, millions of links).
    con.execute("""
        CREATE TABLE names AS
        SELECT target, (row_number() OVER () - 1)::INTEGER AS id
        FROM (SELECT DISTINCT target FROM links WHERE target <> '')""")
    # (first row, target id) packed in one BIGINT sorts by first row; small lists, not
    # DuckDB's top-N aggregate, whose per-group state does not spill at this size.
    packed = f"seq * {_IDS} + id"
    con.execute(f"""
        CREATE TABLE linked AS
        WITH firsts AS (
            SELECT l.key, l.site, n.id, min(l.rowid) AS seq
            FROM links l JOIN names n USING (target) GROUP BY l.key, l.site, n.id
        ), per_key AS (
            SELECT key, site, unnest(list_sort(list({packed}))[1:{targets_limit}]) AS x
            FROM firsts GROUP BY key, site
        ), per_domain AS (
            SELECT f.domain, p.site, p.x % {_IDS} AS id, min(p.x // {_IDS}) AS seq
            FROM per_key p JOIN folded f USING (key) GROUP BY f.domain, p.site, p.x % {_IDS}
        )
        SELECT domain, site,
               [x % {_IDS} FOR x IN list_sort(list({packed}))[1:{targets_limit}]] AS ids
        FROM per_domain GROUP BY domain, site""")
    con.execute("DROP TABLE links")


class _Progress:
    """Add up the bytes read and tell the caller."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.callback is not None:
            self.callback(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.done = self.total
        self.add(0)
