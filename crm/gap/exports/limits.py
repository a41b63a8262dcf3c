"""How much of an upload any read may take: line length, ZIP member size, compression ratio.

Every export is hostile until read: a 300 KB ZIP can hold one 300 MB line, and
a reader that grows one string until it meets a newline (or decompresses a
member to the end) lets that one file take gigabytes. These bounds keep any
read of any upload within a few megabytes of text at a time.
"""

from __future__ import annotations

import zipfile
from typing import IO

from crm.gap.exports.errors import ExportError

# Characters of one physical line. Real export rows are a few KB (long URLs,
# titles, anchors); DuckDB's own reader stops at 2 MB a line.
MAX_LINE_CHARS = 1 << 20
# Decompressed bytes of one ZIP member: Ahrefs' largest exports (1M rows,
# UTF-16) are about 1.5 GB.
MAX_MEMBER_BYTES = 4 << 30
# Decompressed bytes per compressed byte. CSV exports deflate 5-15x; a bomb
# does 1000x. Small members are exempt (a few repeated rows deflate well too).
MAX_RATIO = 100
RATIO_EXEMPT_BYTES = 8 << 20


def line_too_long(display_name: str, line: int) -> ExportError:
    """Return the error for a physical line past MAX_LINE_CHARS."""
    return ExportError(
        display_name,
        line,
        None,
        f"the line is longer than {MAX_LINE_CHARS:,} characters; this is not a "
        "backlinks export (or it was saved with no line breaks)",
    )


def check_member(display_name: str, member: zipfile.ZipInfo) -> None:
    """Refuse a ZIP member whose declared size or compression ratio is out of bounds."""
    if member.file_size > MAX_MEMBER_BYTES:
        raise ExportError(
            display_name,
            None,
            None,
            f"the file inside the ZIP is {member.file_size / 2**30:.1f} GiB unpacked; "
            f"the limit is {MAX_MEMBER_BYTES / 2**30:.0f} GiB",
        )
    if member.file_size > RATIO_EXEMPT_BYTES and member.file_size > MAX_RATIO * max(
        member.compress_size, 1
    ):
        ratio = member.file_size / max(member.compress_size, 1)
        raise ExportError(
            display_name,
            None,
            None,
            f"the file inside the ZIP unpacks to {ratio:,.0f} times its packed size "
            f"(exports pack at most {MAX_RATIO} times); refused as a ZIP bomb",
        )


class BoundedMember:
    """A ZIP member's bytes that stop with an ExportError past its declared size or the limit.

    zipfile trusts the central directory's size; this counts what actually
    comes out, so a member that lies about its size fails instead of growing.
    """

    def __init__(self, raw: IO[bytes], display_name: str, declared: int) -> None:
        self._raw = raw
        self._display = display_name
        self._limit = min(declared, MAX_MEMBER_BYTES)
        self._read = 0

    def read(self, size: int) -> bytes:
        """Read up to size bytes (never all at once: every reader here reads in blocks)."""
        data = self._raw.read(size)
        self._read += len(data)
        if self._read > self._limit:
            raise ExportError(
                self._display,
                None,
                None,
                "the file inside the ZIP unpacks to more than the size it declares; "
                "the ZIP is damaged or forged",
            )
        return data

    def close(self) -> None:
        """Close the member."""
        self._raw.close()
