"""A mixed set of real-format exports for a site and its 4 competitors, with known answers.

Our site: Search Console "Top linking sites" (a ZIP named after the property);
rival-a.com: Ahrefs Backlinks (UTF-16LE, TAB, fully quoted); rival-b.com: Semrush
Backlinks; rival-c.com: Ahrefs Referring domains (owner from the file name);
toolreview.example: Semrush Referring Domains (owner from the file name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crm.gap.sample_exports import (
    SampleDomain,
    SampleLink,
    ahrefs_backlinks_bytes,
    ahrefs_refdomains_bytes,
    gsc_zip_bytes,
    semrush_backlinks_bytes,
    semrush_refdomains_bytes,
    write,
)

SITE = "sample-site.example"
A, B, C, T = "rival-a.com", "rival-b.com", "rival-c.com", "toolreview.example"
COMPETITORS = [A, B, C, T]


@dataclass(frozen=True)
class Referrer:
    """One referring domain: the backlinks it gives each site, and what the tools say of it."""

    domain: str
    sites: dict[str, int]
    dr: float
    traffic: int = 1000
    nofollow: bool = False
    spam: bool = False
    title: str = "Useful kanban resources"
    path: str = "/resources/"
    language: str = "en"
    target_path: str = "/guide"
    extra: dict[str, str] = field(default_factory=dict)


REFERRERS = [
    Referrer("alpha.com", {A: 2, B: 1, C: 3, T: 1}, 72, 52000,
             title="Best kanban tools in 2026", path="/best-kanban-tools/"),
    Referrer("beta.co.uk", {A: 1, B: 2, C: 1, T: 4}, 55, 8000,
             title="Project management resources", path="/resources/"),
    Referrer("someone.blogspot.com", {A: 1, B: 1, C: 1, T: 1}, 48, 300,
             title="My favourite planners", path="/2026/01/planners.html"),
    Referrer("gamma.org", {A: 1, B: 1, C: 2}, 61, 20000,
             title="Trello vs Asana vs rival", path="/compare/"),
    Referrer("delta.net", {A: 1, B: 1}, 40, 700, title="Team planning guide", path="/guide/"),
    Referrer("epsilon.io", {A: 1}, 20, 50, title="Notes", path="/notes/"),
    Referrer("zeta.com", {SITE: 1, A: 3, B: 1}, 66, 9000, title="Planning apps", path="/apps/"),
    Referrer("eta.com", {SITE: 2, A: 1, B: 1, C: 1, T: 1}, 80, 90000,
             title="Editors' picks", path="/picks/"),
    Referrer("theta.de", {SITE: 1}, 35, 400, title="Werkzeuge", path="/werkzeuge/",
             language="de"),
    Referrer("spammy.xyz", {A: 1, B: 1, C: 1, T: 1}, 52, 10, spam=True,
             title="Links links links", path="/list-703/"),
    Referrer("nofollow.com", {A: 1, B: 1, C: 1, T: 1}, 75, 30000, nofollow=True,
             title="Kanban forum thread", path="/t/123"),
    Referrer("webdir.net", {A: 1, B: 1, C: 1, T: 1}, 58, 100,
             title="Web directory - submit your site", path="/directory/business/"),
]  # fmt: skip

# What the gap must say for them (tier, overlap, links to us, categories).
EXPECTED = {
    "alpha.com": (1, 4, False, ["best", "strong"]),
    "beta.co.uk": (1, 4, False, ["best", "strong"]),
    "someone.blogspot.com": (1, 4, False, ["best", "strong"]),
    "gamma.org": (2, 3, False, ["strong"]),
    "delta.net": (2, 2, False, ["strong"]),
    "epsilon.io": (3, 1, False, ["strong", "unique"]),
    "zeta.com": (None, 2, True, ["weak"]),
    "eta.com": (None, 4, True, ["shared"]),
    "theta.de": (None, 0, True, ["unique"]),
    "spammy.xyz": (1, 4, False, ["best", "strong"]),
    "nofollow.com": (1, 4, False, ["best", "strong"]),
    "webdir.net": (1, 4, False, ["best", "strong"]),
}


def _links(site: str, host_prefix: str = "https://www.") -> list[SampleLink]:
    out = []
    for r in REFERRERS:
        for i in range(r.sites.get(site, 0)):
            out.append(
                SampleLink(
                    page_url=f"{host_prefix}{r.domain}{r.path}{'' if i == 0 else f'p{i}/'}",
                    target_url=f"https://{site}{r.target_path}",
                    title=r.title,
                    anchor="kanban guide",
                    authority=r.dr,
                    traffic=r.traffic,
                    nofollow=r.nofollow,
                    spam=r.spam,
                    language=r.language,
                )
            )
    return out


def _domains(site: str) -> list[SampleDomain]:
    return [
        SampleDomain(r.domain, r.dr, r.sites[site], r.traffic, 0 if r.nofollow else 1, r.spam)
        for r in REFERRERS
        if r.sites.get(site)
    ]


def write_exports(folder: Path) -> dict[str, Path]:
    """Write the five exports into folder; return {owner: path}."""
    ours = [(r.domain, r.sites[SITE], 1) for r in REFERRERS if r.sites.get(SITE)]
    return {
        SITE: write(folder / f"https___www.{SITE}_-Links-2026-10-01.zip", gsc_zip_bytes(ours)),
        A: write(folder / "backlinks-rival-a.csv", ahrefs_backlinks_bytes(_links(A))),
        B: write(folder / "semrush_backlinks_b.csv", semrush_backlinks_bytes(_links(B))),
        C: write(
            folder / f"{C}-refdomains-subdomains_2026-10-01.csv",
            ahrefs_refdomains_bytes(_domains(C)),
        ),
        T: write(folder / f"{T}-backlinks_refdomains.csv", semrush_refdomains_bytes(_domains(T))),
    }
