"""The DuckDB SQL of a format's declarations: a file's typed cells, its bad rows, its links.

Generated, never written by hand: each typed cell is its kind's SQL
(crm.gap.exports.cells), each link field its LinkRule's SQL
(crm.gap.exports.formats). `bad` marks a row with a cell its kind's careful
parser would refuse; the careful reader then names its line and column.
"""

from __future__ import annotations

from collections.abc import Collection

from crm.gap.exports.cells import Kind, host_key_sql, http_code_sql, iso_date_sql, sql_strip
from crm.gap.exports.formats import EVIDENCE_FIELDS, ExportFormat
from crm.gap.exports.model import Evidence, ExportInfo, rel_text

# The links table every file of an import is loaded into, in file order.
LINK_COLUMNS: dict[str, str] = {
    "file": "INTEGER",
    "site": "VARCHAR",
    "key": "VARCHAR",  # the host key (crm.gap.exports.cells.host_key) the domain is folded from
    "backlinks": "BIGINT",
    "authority": "DOUBLE",
    "traffic": "BIGINT",
    "rel": "INTEGER",
    "spam": "BOOLEAN",
    "lost": "BOOLEAN",
    "language": "VARCHAR",
    "score": "DOUBLE",
    "target": "VARCHAR",
    "page": "VARCHAR",
    **{name: "VARCHAR" for name in EVIDENCE_FIELDS},
    "lost_reason": "VARCHAR",
    "bad": "BOOLEAN",
}


def literal(text: str) -> str:
    """Quote a string for SQL."""
    return "'" + text.replace("'", "''") + "'"


# How each evidence field's text is read: leniently (it only decorates a link).
_EVIDENCE_READ = {"first_seen": iso_date_sql, "last_seen": iso_date_sql, "http_code": http_code_sql}
_REL_TEXT = " ".join(
    f"WHEN {rel} THEN {literal(text)}" for rel in range(-1, 8) if (text := rel_text(rel))
)


def evidence_sql(alias: str) -> str:
    """SELECT list of the Evidence of a links row (`alias`), in Evidence's field order.

    Evidence text is read here, for the few rows kept: leniently, as it only
    decorates a link (an unreadable date is no date).
    """
    a = alias
    values = {
        "page_url": f"{a}.page",
        "target_url": f"nullif({a}.target, '')",
        "rel": f"CASE {a}.rel {_REL_TEXT} END",
        "lost": f"{a}.lost_reason",
        "language": f"nullif({a}.language, '')",
        **{name: read(f"{a}.{name}") for name, read in _EVIDENCE_READ.items()},
    }
    return ", ".join(
        f"{values.get(name, f'nullif({a}.{name}, {chr(39) * 2})')} AS {name}"
        for name in Evidence._fields
    )


def cells_table_sql(name: str, kinds: dict[str, Kind]) -> str:
    """CREATE the table the careful reader's typed cells go into (none of them bad)."""
    columns = ", ".join(f'"{cell}" {kind.sql_type}' for cell, kind in kinds.items())
    return f"CREATE TABLE {name} ({columns}, bad BOOLEAN DEFAULT false)"


def read_csv_sql(info: ExportInfo, path: str) -> str:
    """Return read_csv() of a UTF-8 file's records after its header, every field as text."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(info.header)))
    return (
        f"read_csv({literal(path)}, encoding='utf-8', delim={literal(info.delimiter)}, "
        f"quote='\"', escape='\"', header=false, skip={info.header_line}, "
        f"columns={{{columns}}}, auto_detect=false, strict_mode=true, null_padding=false, "
        "parallel=true)"
    )


def typed_cells_sql(fmt: ExportFormat, info: ExportInfo, source: str) -> str:
    """Return SELECT of every cell the link rule reads, typed by its kind, and `bad`."""
    prepared = []
    typed = []
    bad = []
    for name, kind in fmt.kinds(info).items():
        assert kind.sql is not None, f"{kind.name} cells are read by the careful reader only"
        index = fmt.cell_index(info, name)
        cell = kind.prepare(sql_strip(f"c{index}")) if index is not None else "''"
        prepared.append(f'{cell} AS "s_{name}"')
        typed.append(f'{kind.sql(f"s_{name}")} AS "{name}"')
        bad.append(kind.bad_sql(f"s_{name}", f'"{name}"'))
    names = ", ".join(f'"{name}"' for name in fmt.kinds(info))
    return (
        f"SELECT {names}, {' OR '.join(bad) or 'false'} AS bad "
        f"FROM (SELECT *, {', '.join(typed)} FROM (SELECT {', '.join(prepared)} FROM {source}))"
    )


def links_sql(
    fmt: ExportFormat, info: ExportInfo, cells: str, file: int, ignored: Collection[str] = ()
) -> str:
    """Return SELECT of the links of a relation of typed cells (with `bad`), as LINK_COLUMNS.

    `ignored` are sites of a multi-site export that are not in the campaign.
    """
    rule = fmt.link_rule(info)
    kinds = fmt.kinds(info)
    page = rule.page if rule.page is not None else "NULL"
    values = {
        "file": str(file),
        "site": "",
        "key": host_key_sql(rule.domain),
        "backlinks": "",
        "authority": rule.authority,
        "traffic": rule.traffic,
        "rel": rule.rel,
        "spam": rule.spam,
        "lost": rule.lost,
        "language": rule.language,
        "score": rule.score,
        "target": rule.target,
        "page": page,
        **{
            name: rule.evidence.get(name, f'"{name}"' if name in kinds else "''")
            for name in EVIDENCE_FIELDS
        },
        "lost_reason": f"CASE WHEN {rule.lost} THEN {rule.lost_reason} END",
        "bad": "bad",
    }

    def select(site: str, backlinks: str) -> str:
        fields = values | {"site": literal(site), "backlinks": backlinks}
        columns = ", ".join(f'{fields[name]} AS "{name}"' for name in LINK_COLUMNS)
        return f"SELECT {columns} FROM {cells}"

    if rule.site_backlinks is None:
        return select(info.owners[0], rule.backlinks)
    parts = [
        f"SELECT * FROM ({select(site, rule.site_backlinks.format(site=f'site_{n}'))}) "
        "WHERE backlinks > 0"
        for n, (site, _) in enumerate(info.site_columns)
        if site not in ignored
    ]
    return " UNION ALL ".join(parts) or f"{select('', '0')} WHERE false"
