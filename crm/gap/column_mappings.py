"""Columns of CSVs nobody recognised, and the mappings users save for them (services: flush)."""

from __future__ import annotations

from sqlalchemy import select

from crm.core.errors import UserError
from crm.extensions import db
from crm.gap.exports import ExportError
from crm.models import ColumnMapping, User

_HEADER_PEEK_LINES = 12


def peek_header(path: str) -> list[str]:
    """Return the columns of a file's first line, for mapping a CSV nobody recognised."""
    from crm.gap.exports.textio import (
        DELIMITERS,
        LineReader,
        open_sources,
        parse_line,
        sniff_encoding,
    )

    try:
        source = open_sources(path)[0]
        with source.open_binary() as raw:
            head = raw.read(4)
            codec, bom = sniff_encoding(head)
            for count, line in enumerate(LineReader(raw, codec, source.display_name, head[bom:])):
                if line.strip():
                    delimiter = max(DELIMITERS, key=line.count)
                    return [c.strip() for c in parse_line(line, delimiter) if c.strip()][:80]
                if count > _HEADER_PEEK_LINES:
                    break
    except (ExportError, ValueError, OSError):
        pass
    return []


def save_mapping(name: str, mapping: dict[str, str], *, actor: User | None = None) -> ColumnMapping:
    """Save (or replace) a named generic CSV column mapping for reuse (flush)."""
    from crm.gap.exports import GENERIC_FIELDS

    name = name.strip()
    if not name:
        raise UserError("give the mapping a name", field="mapping_name")
    mapping = {k: v for k, v in mapping.items() if v}
    unknown = sorted(set(mapping) - set(GENERIC_FIELDS))
    if unknown:
        raise UserError(f"unknown field(s): {', '.join(unknown)}", field="mapping_name")
    if "url" not in mapping and "domain" not in mapping:
        raise UserError("map at least the URL or the domain column", field="mapping_name")
    saved = db.session.scalar(select(ColumnMapping).where(ColumnMapping.name == name))
    if saved is None:
        saved = ColumnMapping(name=name, created_by_id=actor.id if actor else None)
        db.session.add(saved)
    saved.mapping = mapping
    db.session.flush()
    return saved


def saved_mappings() -> list[ColumnMapping]:
    return list(db.session.scalars(select(ColumnMapping).order_by(ColumnMapping.name)))
