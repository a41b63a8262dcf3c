"""Fold an import's links table per (referring domain, site), in DuckDB SQL.

Three tables come out of `links` (which is dropped after): `site_facts` (live
and lost link counts, best authority and traffic, the rels seen, spam, the
first language in file order), `evidence` (the best pages of each domain and
site by rank, then first seen, a page counting with its best row) and
`linked` (the first target URLs of each domain and site in file order, as ids
into `names`). crm.gap.reduce reads them a batch of domains at a time.
"""

from __future__ import annotations

from typing import Any

from crm.gap.exports.sql import evidence_sql

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
EDITORIAL_MASK = sum(1 << (rel + 1) for rel in range(8) if not rel & 0b110)


def fold_links(con: Any, evidence_limit: int, targets_limit: int) -> None:
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
