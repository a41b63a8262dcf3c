"""The demo workspace's gap: realistic exports for its site and 4 competitors, imported twice.

The exports are generated (seeded, so every demo is the same) into
instance/demo/ with the writers of crm.gap.sample_exports, in the formats the
tools produce: Search Console for our site, Ahrefs, Semrush, Majestic and an
Ahrefs referring-domains file for the competitors. Last quarter's snapshot is
imported first, then this quarter's, so the campaign page shows a diff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from crm.gap.sample_exports import (
    SampleDomain,
    SampleLink,
    ahrefs_backlinks_bytes,
    ahrefs_refdomains_bytes,
    gsc_zip_bytes,
    majestic_bytes,
    semrush_backlinks_bytes,
    write,
)
from crm.gap.service import SourceFile, import_now
from crm.models import Campaign, utcnow

REFERRING_DOMAINS = 320
SEED = 20261121

_WORDS = ("kanban", "agile", "sprint", "planner", "teamwork", "pm", "roadmap", "scrum", "remote",
          "startup", "saas", "workflow", "product", "ops", "taskly", "focus", "deskside", "shipit",
          "standup", "backlog")  # fmt: skip
_SUFFIX = ("hub", "weekly", "review", "lab", "blog", "insider", "notes", "daily", "guide", "post",
           "times", "base", "zone", "club", "digest")  # fmt: skip
_TLDS = ("com", "com", "com", "io", "co.uk", "net", "org", "de", "fr", "com.au", "blogspot.com")
_JUNK_TLDS = ("xyz", "top", "online")

# (kind, path pattern, title pattern, nofollow chance)
_KINDS = (
    ("resource", "/resources/{w}-tools/", "{W} resources for teams", 0.1),
    ("roundup", "/best-{w}-tools/", "The 12 best {w} tools in 2026", 0.15),
    ("editorial", "/blog/2026/0{m}/{w}-survey/", "What our {w} survey says", 0.2),
    ("comparison", "/compare/trello-vs-asana/", "Trello vs Asana vs {W}: compared", 0.1),
    ("guest", "/guest-post/{w}-lessons/", "Guest post: {w} lessons from a remote team", 0.3),
    ("directory", "/directory/software/{w}/", "{W} software directory", 0.5),
    ("forum", "/forum/t/{n}", "Which {w} tool do you use? - forum thread", 0.9),
    ("profile", "/users/{w}{n}/", "{W} fan's profile", 0.9),
)
_KIND_WEIGHTS = (16, 18, 14, 8, 6, 6, 6, 3)
# Each competitor's pages that earn links (linkable assets), by kind of page linking.
_TARGETS = {
    "resource": "/guides/kanban-board-guide",
    "roundup": "/blog/best-project-management-software",
    "editorial": "/research/remote-work-report-2026",
    "comparison": "/compare/trello-vs-asana",
    "guest": "/blog/remote-team-rituals",
    "directory": "/",
    "forum": "/help/getting-started",
    "profile": "/",
}


@dataclass(frozen=True)
class _Referrer:
    domain: str
    kind: int
    word: str
    dr: float
    traffic: int
    language: str
    spam: bool
    sites: tuple[str, ...]
    links: int
    # What changed since last quarter: "" nothing, "new" (absent before), "us" (started
    # linking to us), or the competitor it stopped linking to.
    change: str

    def links_to(self, owner: str, this_quarter: bool) -> bool:
        """Tell whether this referrer's export row for `owner` exists in that quarter."""
        if owner not in self.sites:
            return False
        if this_quarter:
            return self.change != owner
        return self.change != "new" and not (self.change == "us" and owner == self.site)

    site: str = ""


def _referrers(rng: random.Random, site: str, competitors: list[str]) -> list[_Referrer]:
    out: list[_Referrer] = []
    seen: set[str] = set()
    popularity = [0.55, 0.45, 0.35, 0.3, 0.25][: len(competitors)]
    while len(out) < REFERRING_DOMAINS:
        word = rng.choice(_WORDS)
        junk = rng.random() < 0.05
        tld = rng.choice(_JUNK_TLDS if junk else _TLDS)
        domain = f"{word}{rng.choice(_SUFFIX)}{rng.randint(1, 99) if rng.random() < 0.3 else ''}"
        domain = f"{domain}.{tld}"
        if tld == "blogspot.com":
            domain = f"{word}-{rng.choice(_SUFFIX)}.blogspot.com"
        if domain in seen:
            continue
        seen.add(domain)
        sites = [c for c, p in zip(competitors, popularity, strict=False) if rng.random() < p]
        if not sites:
            sites = [rng.choice(competitors)]
        change = rng.choices(("", "new", "us", sites[0]), (88, 6, 2, 4))[0]
        if rng.random() < 0.22 or change == "us":
            sites.append(site)
        language = {"de": "de", "fr": "fr"}.get(tld, "en")
        if rng.random() < 0.04:
            language = "es"
        dr = 2.0 if junk else round(min(95.0, rng.paretovariate(1.6) * 12), 1)
        out.append(_Referrer(
            domain=domain, kind=rng.choices(range(len(_KINDS)), _KIND_WEIGHTS)[0], word=word,
            dr=dr, traffic=0 if junk else int(dr * dr * rng.uniform(3, 40)), language=language,
            spam=junk, sites=tuple(sites), links=1 if rng.random() < 0.7 else rng.randint(2, 6),
            change=change, site=site,
        ))  # fmt: skip
    return out


def _links(rng: random.Random, referrers: list[_Referrer], site: str, lost_some: bool,
           this_quarter: bool) -> list[SampleLink]:  # fmt: skip
    links = []
    for r in referrers:
        if not r.links_to(site, this_quarter):
            continue
        kind, path, title, nofollow = _KINDS[r.kind]
        for i in range(r.links):
            page = path.format(w=r.word, W=r.word.capitalize(), m=rng.randint(1, 9), n=1000 + i)
            lost = lost_some and this_quarter and rng.random() < 0.04
            links.append(SampleLink(
                page_url=f"https://{'www.' if rng.random() < 0.5 else ''}{r.domain}{page}",
                target_url=f"https://{site}{_TARGETS[kind]}",
                title=title.format(w=r.word, W=r.word.capitalize()),
                anchor=rng.choice((site, "this guide", f"{r.word} tools", "here")),
                authority=r.dr, traffic=r.traffic, nofollow=rng.random() < nofollow,
                sponsored=kind == "guest" and rng.random() < 0.5, spam=r.spam,
                language=r.language, http_code=200,
                lost="2026-10-12" if lost else "",
                page_type={"roundup": "Article > Listicle", "forum": "Forum"}.get(kind, ""),
            ))  # fmt: skip
    return links


def write_demo_exports(
    folder: Path, site: str, competitors: list[str], *, this_quarter: bool = True
) -> list[SourceFile]:
    """Write the demo's five exports into folder; return them as import sources."""
    rng = random.Random(SEED)
    referrers = _referrers(rng, site, competitors)
    quarter = "2026-11-01" if this_quarter else "2026-08-01"
    folder = folder / quarter
    a, b, c, d = (competitors + competitors)[:4]

    def links(owner: str, lost: bool = False) -> list[SampleLink]:
        return _links(random.Random(f"{SEED}{owner}"), referrers, owner, lost, this_quarter)

    ours = [(r.domain, r.links, 1) for r in referrers if r.links_to(site, this_quarter)]
    refdomains = [SampleDomain(r.domain, r.dr, r.links, r.traffic,
                               0 if _KINDS[r.kind][3] > 0.5 else r.links, r.spam)
                  for r in referrers if r.links_to(c, this_quarter)]  # fmt: skip
    files = [
        (f"https___www.{site}_-Links-{quarter}.zip", gsc_zip_bytes(ours), None),
        (f"{a}-backlinks-subdomains_{quarter}.csv", ahrefs_backlinks_bytes(links(a, True)), None),
        (f"{b}-backlinks.csv", semrush_backlinks_bytes(links(b)), None),
        (f"{c}-refdomains-subdomains_{quarter}.csv", ahrefs_refdomains_bytes(refdomains), None),
        (f"majestic_{d}_backlinks.csv", majestic_bytes(links(d)), d),
    ]
    return [SourceFile(str(write(folder / name, data)), name, owner)
            for name, data, owner in files]  # fmt: skip


def import_demo_gap(campaign: Campaign) -> None:
    """Demo step: import last quarter's and this quarter's exports (flush only)."""
    folder = Path(current_app.instance_path) / "demo"
    site, competitors = campaign.site.domain, list(campaign.competitor_domains)
    earlier = import_now(campaign, write_demo_exports(folder, site, competitors,
                                                      this_quarter=False))  # fmt: skip
    assert earlier.finished_at is not None
    earlier.created_at = earlier.finished_at = utcnow() - timedelta(days=92)
    import_now(campaign, write_demo_exports(folder, site, competitors))
