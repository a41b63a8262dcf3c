"""Reduce every export of one import to per-referring-domain facts, in DuckDB.

The files' links are loaded into one table (crm.gap.exports.table) and
folded in SQL per (referring domain, site) by crm.gap.fold: live and lost
link counts, best authority and traffic, the rel flags seen, spam, the first
language in file order, the first TARGETS_PER_SITE target URLs in file
order, and the best EVIDENCE_PER_SITE distinct pages by (rank, first seen) —
a page counting with its best row. The facts stay in DuckDB (spilling to
disk past its memory limit) and reach Python a batch of domains at a time,
so an import of a million referring domains never holds them all as Python
objects.

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
from crm.gap.facts import DomainFacts, FileSummary
from crm.gap.fold import EDITORIAL_MASK, SEEN_DOFOLLOW, SEEN_UNKNOWN, fold_links
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
        paid_or_ugc_only=bool(known) and not known & EDITORIAL_MASK,
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
        fold_links(table.con, evidence_per_site, targets_per_site)
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
