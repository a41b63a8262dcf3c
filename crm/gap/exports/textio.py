"""Turn an export file (or the CSV inside a ZIP) into lines of text, fast.

Encoding comes from the BOM (UTF-16LE/BE, UTF-8-sig), from the NUL pattern of
UTF-16 text without a BOM, else UTF-8; undecodable bytes are an ExportError
naming the line. Text is decoded in large chunks and split on newlines;
crm.gap.exports.records turns the lines into CSV records.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from crm.gap.exports.errors import ExportError
from crm.gap.exports.limits import MAX_LINE_CHARS, BoundedMember, check_member, line_too_long

CHUNK = 1 << 20
DELIMITERS = (",", "\t", ";", "|")

_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
}


def encoding_label(codec: str) -> str:
    """Return the human name of one of our codecs."""
    return _LABELS.get(codec, codec)


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Return (codec, BOM length) for the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    # UTF-16 saved without a BOM: ASCII text with every other byte NUL.
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] != 0:
        return "utf-16-le", 0
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] != 0:
        return "utf-16-be", 0
    return "utf-8", 0


@dataclass(frozen=True, slots=True)
class Source:
    """One readable text file: a path, or a CSV member of a ZIP at that path."""

    path: str
    display_name: str
    member: str | None = None

    @contextmanager
    def open_binary(self) -> Iterator[BinaryIO]:
        """Open the raw bytes; the caller sees ExportError, never OSError."""
        try:
            if self.member is None:
                with open(self.path, "rb") as raw:
                    yield raw
            else:
                with zipfile.ZipFile(self.path) as archive:
                    member = archive.getinfo(self.member)
                    check_member(self.display_name, member)
                    with archive.open(member) as raw:
                        yield BoundedMember(raw, self.display_name, member.file_size)  # type: ignore[misc]
        except OSError as exc:
            raise ExportError(
                self.display_name, None, None, f"cannot read the file: {exc}"
            ) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise ExportError(self.display_name, None, None, f"broken ZIP file: {exc}") from None


def open_sources(path: str | Path, display_name: str | None = None) -> list[Source]:
    """Return the text file at path, or every CSV inside it when it is a ZIP."""
    path = str(path)
    display = display_name or Path(path).name
    try:
        with open(path, "rb") as raw:
            magic = raw.read(4)
    except OSError as exc:
        raise ExportError(display, None, None, f"cannot read the file: {exc}") from None
    if magic != b"PK\x03\x04":
        return [Source(path, display)]
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExportError(display, None, None, f"broken ZIP file: {exc}") from None
    csvs = [
        m
        for m in members
        if m.filename.lower().endswith((".csv", ".tsv", ".txt"))
        and not m.filename.startswith("__MACOSX/")
    ]
    if not csvs:
        found = ", ".join(m.filename for m in members[:8]) or "nothing"
        raise ExportError(display, None, None, f"the ZIP holds no CSV file (found: {found})")
    for member in csvs:
        check_member(f"{display} › {member.filename}", member)
    return [Source(path, f"{display} › {m.filename}", member=m.filename) for m in csvs]


class LineReader:
    """Decode a binary stream in chunks and iterate its lines without newlines.

    CRLF and lone CR line ends are folded to LF first. `chunks()` yields text
    made of whole lines (without the last newline); iterating yields lines
    through C-level chaining, which matters at millions of lines.
    """

    def __init__(
        self,
        raw: BinaryIO,
        codec: str,
        display_name: str,
        prefix: bytes = b"",
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self._raw = raw
        self._codec = codec
        self._display = display_name
        # Bytes already read from raw (after any BOM) to sniff the encoding.
        self._prefix = prefix
        # Told how many bytes each read took, for a progress bar.
        self._on_read = on_read
        # Newlines in the text decoded so far (to name a line too long).
        self._lines = 0

    def _decode_error(self, exc: UnicodeDecodeError, chunk: bytes, text_before: int) -> ExportError:
        decoder = codecs.getincrementaldecoder(self._codec)("replace")
        prefix = decoder.decode(chunk[: exc.start])
        line = text_before + prefix.count("\n") + 1
        bad = chunk[exc.start : exc.start + 4].hex(" ")
        label = encoding_label(self._codec)
        if exc.reason == "truncated data" or exc.start >= len(chunk) - 1:
            return ExportError(
                self._display,
                line,
                None,
                f"the file ends in the middle of a {label} character (truncated?)",
            )
        return ExportError(
            self._display,
            line,
            None,
            f"the bytes {bad} are not valid {label} text; save the export as "
            "UTF-8 (or UTF-16 with a BOM) and try again",
        )

    def _texts(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self._codec)("strict")
        newlines_before = 0
        pending_cr = False
        lone_cr: bool | None = None
        raw = self._raw
        prefix = self._prefix
        on_read = self._on_read
        while True:
            chunk = raw.read(CHUNK)
            if on_read is not None:
                on_read(len(chunk))
            if prefix:
                chunk, prefix = prefix + chunk, b""
            final = not chunk
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                raise self._decode_error(exc, chunk, newlines_before) from None
            if pending_cr:
                text = "\r" + text
                pending_cr = False
            if text.endswith("\r") and not final:
                text = text[:-1]
                pending_cr = True
            if "\r" in text:
                if lone_cr is None:
                    lone_cr = "\n" not in text
                text = text.replace("\r\n", "\n")
                if lone_cr:
                    text = text.replace("\r", "\n")
            if text:
                newlines_before += text.count("\n")
                self._lines = newlines_before
                yield text
            if final:
                return

    def chunks(self) -> Iterator[str]:
        """Yield text made of whole lines, without the newline after the last.

        A line longer than MAX_LINE_CHARS is an ExportError naming it: the
        text held at once stays bounded whatever the file.
        """
        rest = ""
        for text in self._texts():
            cut = text.rfind("\n")
            if cut < 0:
                rest += text
                if len(rest) > MAX_LINE_CHARS:
                    raise line_too_long(self._display, self._lines + 1)
                continue
            if len(rest) + text.find("\n") > MAX_LINE_CHARS:
                raise line_too_long(self._display, self._lines - text.count("\n") + 1)
            yield rest + text[:cut] if rest else text[:cut]
            rest = text[cut + 1 :]
            if len(rest) > MAX_LINE_CHARS:
                raise line_too_long(self._display, self._lines + 1)
        if rest:
            yield rest

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(chunk.split("\n") for chunk in self.chunks())


def parse_line(line: str, delimiter: str) -> list[str]:
    """Split one line (a header) into fields with the csv module."""
    try:
        return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)
