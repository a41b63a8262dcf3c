"""Write small exports in the byte formats the tools produce, for the gap tests."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from crm.gap.sample_exports import AHREFS_BACKLINKS_HEADER as AHREFS_HEADER
from crm.gap.sample_exports import AHREFS_OLDER_MISSING
from crm.gap.sample_exports import SEMRUSH_BACKLINKS_HEADER as SEMRUSH_HEADER

SAMPLES = Path(__file__).parent / "samples"


def csv_text(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ",",
    quote_all: bool = False,
) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=delimiter,
        lineterminator="\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows([str(v) for v in row] for row in rows)
    return out.getvalue()


def ahrefs_bytes(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def ahrefs_row(
    url: str,
    target: str,
    *,
    dr: object = "50",
    title: str = "A page",
    nofollow: str = "false",
    ugc: str = "false",
    sponsored: str = "false",
    spam: str = "false",
    traffic: object = "1000",
    ur: object = "10",
    lost: str = "",
    lost_status: str = "",
    language: str = "en",
    page_type: str = "",
    http: str = "200",
    anchor: str = "anchor",
    older: bool = False,
) -> list[object]:
    values = {
        "Referring page title": title,
        "Referring page URL": url,
        "Language": language,
        "Platform": "wordpress",
        "Referring page HTTP code": http,
        "Domain rating": dr,
        "UR": ur,
        "Domain traffic": traffic,
        "Referring domains": "3",
        "Linked domains": "4",
        "External links": "5",
        "Page traffic": "6",
        "Keywords": "7",
        "Target URL": target,
        "Left context": "",
        "Anchor": anchor,
        "Right context": "",
        "Redirect Chain URLs": "",
        "Redirect Chain status codes": "",
        "Type": "text",
        "Is spam": spam,
        "Content": "true",
        "Nofollow": nofollow,
        "UGC": ugc,
        "Sponsored": sponsored,
        "Rendered": "false",
        "Raw": "true",
        "Lost status": lost_status,
        "Drop reason": "",
        "Discovered status": "",
        "First seen": "2025-01-02 03:04:05",
        "Last seen": "2026-01-02 03:04:05",
        "Lost": lost,
        "Author": "",
        "Page type": page_type,
        "Page category": "",
        "Links in group": "1",
    }
    return [values[h] for h in ahrefs_header(older)]


def ahrefs_header(older: bool = False) -> tuple[str, ...]:
    if older:
        return tuple(h for h in AHREFS_HEADER if h not in AHREFS_OLDER_MISSING)
    return AHREFS_HEADER


def write_ahrefs(path: Path, rows: Iterable[list[object]], *, older: bool = False) -> Path:
    text = csv_text(ahrefs_header(older), rows, delimiter="\t", quote_all=True)
    path.write_bytes(ahrefs_bytes(text))
    return path


def semrush_row(
    url: str,
    target: str,
    *,
    score: object = "40",
    title: str = "A page",
    nofollow: str = "false",
    sponsored: str = "false",
    ugc: str = "false",
    lost: str = "false",
    anchor: str = "anchor",
) -> list[object]:
    return [
        score,
        title,
        url,
        target,
        anchor,
        "12",
        "21",
        nofollow,
        sponsored,
        ugc,
        "true",
        "false",
        "false",
        "false",
        "false",
        "2024-09-19",
        "2026-05-16",
        "false",
        lost,
    ]


def write_semrush(path: Path, rows: Iterable[list[object]]) -> Path:
    path.write_text(csv_text(SEMRUSH_HEADER, rows), encoding="utf-8")
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
