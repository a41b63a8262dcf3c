"""Read what a referring page says about itself: its link type's words and exclusion patterns.

One definition, evaluated by DuckDB for every path: an import's pages in
its own DuckDB database (`judged_sql`, crm.gap.reduce), stored prospects'
pages a chunk at a time (`judge_pages`: `reassess`, a prospect added by
hand). Python's `re` took a fifth of a large import on these patterns (up to
20 alternatives each, case-insensitive, over ~800,000 pages); DuckDB runs
them in RE2 at a tenth of that. RE2's `\\b`, `\\s` and `\\d` are ASCII, so
the patterns say what they mean in ASCII terms; `(?i)` folds case in Unicode.

`judge_pages` returns a `PageVerdict` per page: what the tool's page type,
the URL and the title each say (the link type rules in crm.gap.linktype pick
among them), and whether the page matches the directory, press-release and
blogroll patterns (the exclusion rules in crm.gap.qualify read those).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, NamedTuple

import duckdb
import orjson

from crm.gap.exports import Evidence

# Link types by what gives them away, most specific first: (link type, URL pattern, title
# pattern). Values are crm.gap.linktype.LinkType's.
LINK_TYPE_WORDS: tuple[tuple[str, str, str], ...] = (
    (
        "directory",
        r"/director(y|ies)\b|/listings?/|/business(es)?/[^/]+/?$|/companies/|/catalog(ue)?/"
        r"|/dir/|//[^/]*director(y|ies)\.|/yellow-?pages",
        r"\bdirectory\b|\bbusiness listing|\blisting for\b|\byellow pages\b",
    ),
    (
        "forum",
        r"/forums?/|/threads?/|/topics?/|/t/\d+|/community/|/discussions?/|/questions/\d+"
        r"|[?&]replytocom=|#comment|/comments?/"
        r"|//(www\.)?(reddit|quora|stackexchange|stackoverflow)\.com/|showthread|viewtopic",
        r"\bforums?\b|\bthread\b|\bcomments? on\b|\bdiscussion\b|\bforo\b",
    ),
    (
        "profile",
        r"/users?/[^/]+/?$|/profiles?/|/members?/[^/]+/?$|/u/[^/]+/?$|/people/[^/]+/?$"
        r"|/@[^/]+/?$",
        r"\bprofile\b|'s profile|\bmember since\b",
    ),
    (
        "guest_post",
        r"guest-?post|/guest/|write-for-us|/contributors?/|sponsored-post",
        r"\bguest (post|author|article)\b|\bcontributed by\b|\bwrite for us\b",
    ),
    (
        "comparison",
        r"-vs-|/vs/|-versus-|/compare|comparison|-alternatives?\b|/alternatives?/",
        r"\bvs\.?\s|\bversus\b|\bcompar(ed|ison|e)\b|\balternatives? to\b",
    ),
    (
        "roundup",
        r"/best-|-best-|/top-?\d+|roundup|round-up|/list-of-"
        r"|/\d+-(best|top|tools|apps|ways|tips|resources)",
        r"^\s*(the\s+)?\d+\s+(best|top|great|essential|useful)"
        r"|\bbest\b.*\b(tools|apps|software|sites|blogs|resources|plugins|services)\b"
        r"|\btop \d+\b|\broundup\b|\bround-up\b|\blist of\b",
    ),
    (
        "resource",
        r"/resources?(/|\.html?|$)|/links(/|\.html?|$)|useful-links|helpful-links"
        r"|/further-reading|/recommended(-reading|-tools)?/",
        r"\bresources\b|\buseful links\b|\bhelpful links\b|\bfurther reading\b"
        r"|\brecommended (reading|tools|sites)\b",
    ),
    (
        "editorial",
        r"/20\d\d/\d\d/|/news/|/blog/|/articles?/|/stories/|/posts?/",
        r"\bnews\b|\binterview\b|\breport\b|\bstudy\b|\bsurvey\b",
    ),
)

# The SEO tool's own "Page type" / "Page category" words (Ahrefs) and the link type they
# mean, in order; "editorial" counts only when nothing else matches.
TOOL_PAGE_TYPES: tuple[tuple[str, str], ...] = (
    (r"director", "directory"),
    (r"forum|comment|message.?board|q&a", "forum"),
    (r"profile|user page", "profile"),
    (r"listicle|roundup|best of", "roundup"),
    (r"comparison|review.*vs", "comparison"),
    (r"resource|links page", "resource"),
    (r"guest", "guest_post"),
    (r"article|news|blog post|press", "editorial"),
)

# Pages a prospect is excluded for when every page linking to a competitor is one
# (crm.gap.qualify): each pattern is matched against the URL and the title.
DIRECTORY_PAGE = (
    r"/director(y|ies)\b|/listings?/|/dir/|/catalog(ue)?/|//[^/]*director(y|ies)\.|"
    r"\bdirectory\b|\bbusiness listings?\b|\byellow ?pages\b|\bsubmit (your )?(site|url|link)\b"
)
PRESS_RELEASE_PAGE = (
    r"press-?releases?|/pr/|/newsroom/|/news-release|\bpress release\b|\bnewswire\b|"
    r"\bpr newswire\b|\bfor immediate release\b"
)
BLOGROLL_PAGE = (
    r"blogroll|/links/?$|/friends/?$|/partners/?$|\bblogroll\b|"
    r"\bfriends'? (sites|blogs|links)\b|\blink exchange\b"
)


class PageVerdict(NamedTuple):
    """What one page says: per source, the link type it names and the words that did."""

    tool_says: str  # the tool's page type and category, as shown ("" when it has none)
    tool_type: str | None
    url_type: str | None
    url_words: str | None
    title_type: str | None
    title_words: str | None
    directory: bool
    press_release: bool
    blogroll: bool


# What a verdict depends on: a page's URL, title, page type and page category.
verdict_key = itemgetter(0, 1, 10, 11)
assert Evidence._fields[:2] == ("page_url", "title")
assert Evidence._fields[10:12] == ("page_type", "page_category")


def _literal(pattern: str) -> str:
    return "'" + "(?i)" + pattern.replace("'", "''") + "'"


def _first_match(text: str, rules: Iterable[tuple[str, str]]) -> str:
    """SQL: [link type, matched words] of the first rule whose pattern matches `text`."""
    whens = " ".join(
        f"WHEN regexp_matches({text}, {_literal(p)})"
        f" THEN ['{kind}', regexp_extract({text}, {_literal(p)})]"
        for kind, p in rules
    )
    return f"CASE {whens} END"


def _url_or_title(pattern: str) -> str:
    return (
        f"(regexp_matches(page_url, {_literal(pattern)})"
        f" OR coalesce(regexp_matches(title, {_literal(pattern)}), false))"
    )


def judged_sql(pages: str) -> str:
    """SQL: the rows of `pages` (a query with page_url, title, page_type, page_category) and
    each page's verdict as `verdict`, PageVerdict's fields in a JSON array."""
    says = "concat_ws(' ', nullif(page_type, ''), nullif(page_category, ''))"
    editorial = next(p for p, kind in TOOL_PAGE_TYPES if kind == "editorial")
    tool = " ".join(
        f"WHEN regexp_matches(says, {_literal(p)}) THEN '{kind}'"
        for p, kind in TOOL_PAGE_TYPES
        if kind != "editorial"
    )
    url = _first_match("page_url", [(kind, u) for kind, u, _ in LINK_TYPE_WORDS])
    title = _first_match("nullif(title, '')", [(kind, t) for kind, _, t in LINK_TYPE_WORDS])
    return f"""
        SELECT *, json_array(says,
                             CASE {tool} WHEN regexp_matches(says, {_literal(editorial)})
                                         THEN 'editorial' END,
                             by_url[1], by_url[2], by_title[1], by_title[2],
                             {_url_or_title(DIRECTORY_PAGE)}, {_url_or_title(PRESS_RELEASE_PAGE)},
                             {_url_or_title(BLOGROLL_PAGE)})::VARCHAR AS verdict
        FROM (SELECT *, {says} AS says, {url} AS by_url, {title} AS by_title FROM ({pages}))"""


def verdict_of(text: str) -> PageVerdict:
    """Return the PageVerdict of a `verdict` column's value."""
    return PageVerdict._make(orjson.loads(text))


_SQL = f"""
    SELECT verdict FROM ({
    judged_sql(
        "SELECT unnest(range(len($1))) AS seq, unnest($1::VARCHAR[]) AS page_url,"
        " unnest($2::VARCHAR[]) AS title, unnest($3::VARCHAR[]) AS page_type,"
        " unnest($4::VARCHAR[]) AS page_category"
    )
}) ORDER BY seq"""
_database: Any = None
_opening = threading.Lock()


def _cursor() -> Any:
    """Return a cursor of the process's in-memory DuckDB (opening one costs ~35 ms)."""
    global _database
    with _opening:
        if _database is None:
            _database = duckdb.connect(":memory:")
    return _database.cursor()  # a connection of its own: safe in this thread


def judge_pages(pages: Iterable[Evidence]) -> dict[tuple[Any, ...], PageVerdict]:
    """Return each page's verdict, by `verdict_key(page)`."""
    keys = list(dict.fromkeys(map(verdict_key, pages)))
    if not keys:
        return {}
    columns = [list(column) for column in zip(*keys, strict=True)]
    cursor = _cursor()
    try:
        rows = cursor.execute(_SQL, columns).fetchall()
    finally:
        cursor.close()
    return {key: verdict_of(text) for key, (text,) in zip(keys, rows, strict=True)}
