"""Ranking exports as the tools write them, built in the test (Search Console ZIP, tracker CSV)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

GSC_PAGES = (
    "Top pages,Clicks,Impressions,CTR,Position\n"
    'https://www.sample-site.example/kanban-guide/,"1,240",48210,2.57%,8.4\n'
    "https://sample-site.example/best-project-tools,310,15022,2.06%,14.2\n"
    "https://sample-site.example/about,12,900,1.33%,31\n"
)
GSC_QUERIES = "Top queries,Clicks,Impressions,CTR,Position\nkanban board,800,20000,4%,3.1\n"
GSC_PAGES_DE = (
    "Top-Seiten;Klicks;Impressionen;CTR;Position\n"
    "https://sample-site.example/kanban-guide;1.240;48.210;2,57 %;7,9\n"
)
TRACKER = (
    "Keyword,URL,Position,Date\n"
    "kanban board,https://sample-site.example/kanban-guide,5,2026-10-01\n"
    "kanban template,https://sample-site.example/kanban-guide,9,2026-10-01\n"
    "project tools,https://sample-site.example/best-project-tools,>100,2026-10-01\n"
)


def gsc_zip(folder: Path, pages: str = GSC_PAGES, name: str = "Pages.csv") -> Path:
    """The ZIP Search Console's Performance › Export › Download CSV produces."""
    path = folder / "sample-site.example-Performance-on-Search-2026-10-31.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Queries.csv", GSC_QUERIES)
        archive.writestr(name, pages)
        archive.writestr(
            "Countries.csv", "Country,Clicks,Impressions,CTR,Position\nGermany,1,2,50%,3\n"
        )
        archive.writestr("Filters.csv", "Filter,Value\nDate,Last 3 months\n")
    path.write_bytes(buffer.getvalue())
    return path


def text_file(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path
