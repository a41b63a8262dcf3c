"""An import's links: every file's rows as links in one DuckDB table, in file order.

DuckDB reads the big formats' cells in C++ (SQL generated from their
declarations, crm.gap.exports.sql); the careful reader
(crm.gap.exports.reader) reads the small formats. A file DuckDB refuses — a
cell its kind refuses, a CSV grammar or encoding problem, a host that is not
a domain — is read again by the careful reader, which names the file, line
and column (or, when only DuckDB's CSV grammar was stricter, reads it).
Either way the format's one LinkRule makes the links, and every host key is
folded to its registrable domain into `folded`.

The connection is locked down: it reads only the import's own files and its
scratch folder, loads no extension, and its settings cannot be changed back.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from crm.core.domains import DomainError
from crm.gap.exports.cells import fold_key
from crm.gap.exports.detect import FORMAT_BY_ID
from crm.gap.exports.errors import ExportError
from crm.gap.exports.model import Evidence, ExportInfo, LinkRow
from crm.gap.exports.reader import ReadStats, check_header, read_cells
from crm.gap.exports.sql import (
    LINK_COLUMNS,
    cells_table_sql,
    evidence_sql,
    links_sql,
    read_csv_sql,
    typed_cells_sql,
)
from crm.gap.exports.textio import Source

# DuckDB spills to the scratch folder past this. 256 MB ran out of memory folding 800,000
# referring domains (some aggregate states do not spill); 512 MB folds them.
MEMORY_LIMIT = os.environ.get("CRM_IMPORT_DUCKDB_MEMORY", "512MB")
THREADS = 2
# Rows of careful-read cells sent to DuckDB at once.
BATCH = 20_000
# What DuckDB reads itself; UTF-16 and ZIP members are copied out as UTF-8 first.
_UTF8 = ("UTF-8", "UTF-8 (BOM)")


class LinkTable:
    """The links of an import's files, in a DuckDB database of its own (a context manager)."""

    def __init__(self, infos: Sequence[ExportInfo]) -> None:
        self.scratch = tempfile.mkdtemp(prefix="linkgap-import-")
        self.con: Any = _locked_connection(self.scratch, [info.path for info in infos])
        columns = ", ".join(f"{name} {kind}" for name, kind in LINK_COLUMNS.items())
        self.con.execute(f"CREATE TABLE links ({columns})")
        self.con.execute("CREATE TABLE folded (key VARCHAR, domain VARCHAR)")
        self.files = 0

    def __enter__(self) -> LinkTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the database and its scratch folder."""
        self.con.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def load(
        self,
        info: ExportInfo,
        ignored: Sequence[str] = (),
        on_read: Callable[[int], None] | None = None,
    ) -> ReadStats:
        """Add one file's links (ExportError names file, line and column of a bad row)."""
        number = self.files
        self.files += 1
        fmt = FORMAT_BY_ID[info.format_id]
        if fmt.read_by_duckdb(info):
            check_header(info)
            records = self._load_by_duckdb(info, number)
            if records is not None:
                if on_read is not None:
                    on_read(info.size)
                return ReadStats(records=records)
        return self._load_carefully(info, number, ignored, on_read)

    def _load_by_duckdb(self, info: ExportInfo, number: int) -> int | None:
        """Load a file's links with DuckDB; None when it refused something (nothing loaded)."""
        fmt = FORMAT_BY_ID[info.format_id]
        path = self._utf8_copy(info, number)
        if path is None:
            return None
        cells = f"({typed_cells_sql(fmt, info, read_csv_sql(info, path))})"
        try:
            self.con.execute(f"INSERT INTO links {links_sql(fmt, info, cells, number)}")
        except duckdb.Error:
            return None  # the grammar or the width: the careful reader says where
        finally:
            if path != info.path:
                os.unlink(path)
        records, bad = self.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE bad) FROM links WHERE file = $1", [number]
        ).fetchone()
        if bad or not self._fold(number):
            self.con.execute("DELETE FROM links WHERE file = $1", [number])
            return None
        return int(records)

    def _utf8_copy(self, info: ExportInfo, number: int) -> str | None:
        """Return a path DuckDB can read the file at: its own, or a UTF-8 copy in scratch.

        None when it does not decode (the careful reader says where). DuckDB's
        own UTF-16 reader refuses characters outside the BMP and is slower than
        Python's codec plus its UTF-8 reader.
        """
        if info.member is None and info.encoding in _UTF8:
            return info.path
        codec = {"UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}.get(info.encoding, "utf-8")
        path = os.path.join(self.scratch, f"{number}.csv")
        decoder = codecs.getincrementaldecoder(codec)("strict")
        try:
            with (
                Source(info.path, info.display_name, info.member).open_binary() as raw,
                open(path, "wb") as out,
            ):
                head = raw.read(3)
                for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    if head.startswith(bom):
                        head = head[len(bom) :]
                        break
                out.write(decoder.decode(head).encode("utf-8"))
                while chunk := raw.read(8 << 20):
                    out.write(decoder.decode(chunk).encode("utf-8"))
                out.write(decoder.decode(b"", final=True).encode("utf-8"))
        except (UnicodeError, OSError, zipfile.BadZipFile, ExportError):
            Path(path).unlink(missing_ok=True)
            return None
        return path

    def _load_carefully(
        self,
        info: ExportInfo,
        number: int,
        ignored: Sequence[str],
        on_read: Callable[[int], None] | None,
    ) -> ReadStats:
        """Load a file's links through the careful reader (ExportError at the first bad row)."""
        fmt = FORMAT_BY_ID[info.format_id]
        kinds = fmt.kinds(info)
        table = f"cells_{number}"
        self.con.execute(cells_table_sql(table, kinds))
        stats = ReadStats()
        types = [kind.sql_type for kind in kinds.values()]
        rows: list[list[object]] = []
        try:
            for row in read_cells(info, stats, on_read):
                rows.append(row)
                if len(rows) == BATCH:
                    _insert_rows(self.con, table, types, rows)
                    rows = []
            _insert_rows(self.con, table, types, rows)
            self.con.execute(f"INSERT INTO links {links_sql(fmt, info, table, number, ignored)}")
        finally:
            self.con.execute(f"DROP TABLE {table}")
        if not self._fold(number):  # pragma: no cover - the careful reader checked every host
            raise ExportError(info.display_name, None, None, "a host is not a domain")
        return stats

    def _fold(self, number: int) -> bool:
        """Fold the new host keys of a file to registrable domains (False: one is not a domain)."""
        keys = [
            key
            for (key,) in self.con.execute(
                "SELECT DISTINCT key FROM links WHERE file = $1 "
                "AND key NOT IN (SELECT key FROM folded)",
                [number],
            ).fetchall()
        ]
        try:
            domains = [fold_key(key) for key in keys]
        except DomainError:
            return False
        self.con.execute(
            "INSERT INTO folded SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[])",
            [keys, domains],
        )
        return True

    def link_rows(self) -> Iterator[LinkRow]:
        """Yield every link in file order, its domain folded (for tests and small files)."""
        result = self.con.execute(f"""
            SELECT f.domain, l.site, l.backlinks, l.authority, l.traffic, l.rel, l.spam, l.lost,
                   nullif(l.language, ''), l.page IS NOT NULL, {evidence_sql("l")}
            FROM links l JOIN folded f USING (key) ORDER BY l.rowid""")
        while batch := result.fetchmany(BATCH):
            for row in batch:
                evidence = Evidence._make(row[10:]) if row[9] else None
                yield LinkRow._make((*row[:9], evidence))


def read_links(info: ExportInfo, stats: ReadStats | None = None) -> Iterator[LinkRow]:
    """Stream the links of one inspected export as LinkRow values (ExportError on bad input)."""
    with LinkTable([info]) as table:
        found = table.load(info)
        if stats is not None:
            stats.records, stats.skipped = found.records, found.skipped
            stats.skipped_lines = found.skipped_lines
        yield from table.link_rows()


def _locked_connection(scratch: str, paths: Sequence[str]) -> Any:
    """Open a DuckDB database in scratch that may read only these files and write only there.

    On disk rather than in memory: the links of millions of rows then stay under
    the memory limit, paged in and out by DuckDB's buffer manager.
    """
    folder = Path(scratch)
    con = duckdb.connect(
        str(folder / "import.duckdb"),
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    allowed = ", ".join(f"'{str(p).replace(chr(39), chr(39) * 2)}'" for p in paths)
    for statement in (
        f"SET temp_directory = '{folder / 'spill'}'",
        f"SET memory_limit = '{MEMORY_LIMIT}'",
        f"SET threads = {THREADS}",
        "SET preserve_insertion_order = true",
        # Hand freed memory back at once: the import keeps working in Python meanwhile.
        "SET allocator_flush_threshold = '16MB'",
        f"SET allowed_directories = ['{folder}/']",
        f"SET allowed_paths = [{allowed}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        con.execute(statement)
    return con


def _insert_rows(con: Any, table: str, types: Sequence[str], rows: list[list[object]]) -> None:
    """Append rows of typed values to a table, one list per column."""
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    select = ", ".join(f"unnest(${i + 1}::{t}[])" for i, t in enumerate(types))
    con.execute(f"INSERT INTO {table} SELECT {select}, false", columns)
