"""Read the backlink exports of SEO tools into what the gap needs.

    info = inspect_export(path, owner=None, mapping=None)   # cheap: format, owner, encoding
    for link in read_links(info): ...                          # the file's LinkRow values

An import loads all its files into one LinkTable (crm.gap.exports.table).
Anything wrong with a file is an ExportError naming file, line and column.
"""

from crm.gap.exports.detect import FORMAT_BY_ID, format_choices, inspect_export
from crm.gap.exports.errors import ExportError, OwnerUnknown
from crm.gap.exports.generic import FIELDS as GENERIC_FIELDS
from crm.gap.exports.model import (
    NOFOLLOW,
    REL_UNKNOWN,
    SPONSORED,
    UGC,
    Evidence,
    ExportInfo,
    LinkRow,
    rel_text,
)
from crm.gap.exports.reader import ReadStats
from crm.gap.exports.table import LinkTable, read_links

__all__ = [
    "FORMAT_BY_ID",
    "GENERIC_FIELDS",
    "NOFOLLOW",
    "REL_UNKNOWN",
    "SPONSORED",
    "UGC",
    "Evidence",
    "ExportError",
    "ExportInfo",
    "LinkRow",
    "LinkTable",
    "OwnerUnknown",
    "ReadStats",
    "format_choices",
    "inspect_export",
    "read_links",
    "rel_text",
]
