"""Generate the synthetic exports of the gap benchmark, cached under bench/.data/.

Five exports of one campaign (our site and four competitors), in the byte
formats the tools really produce (see shared/formats/): Ahrefs Backlinks
(UTF-16LE with BOM, TAB, every field quoted, 37 columns) and Semrush Backlinks
(UTF-8, comma, minimal quoting), mixed. Referring domains follow a heavy-tailed
distribution over a shared pool (about 15 rows per referring domain, a few
domains with thousands: sitewide links), so the files overlap the way real niches do,
and hosts carry the messy variants the normaliser must fold (www., ports,
upper case, trailing dots, blogspot/github.io, .co.uk, IDN in both forms).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from crm.gap.sample_exports import AHREFS_BACKLINKS_HEADER as AHREFS_HEADER
from crm.gap.sample_exports import AHREFS_REFDOMAINS_HEADER, SEMRUSH_REFDOMAINS_HEADER
from crm.gap.sample_exports import SEMRUSH_BACKLINKS_HEADER as SEMRUSH_HEADER

DATA_DIR = Path(__file__).parent / ".data"
ROWS = 400_000
# Referring domains in the niche, as a share of one export's rows: real
# backlink exports run at 10-100 backlinks per referring domain (sitewide
# links), so 400,000 rows come from tens of thousands of domains.
POOL_SHARE = 0.15
# Bumped whenever the generator changes, so a stale cache is never reused.
VERSION = 2

SITES = ("our-site.com", "rival-a.com", "rival-b.co.uk", "rival-c.com", "rival-d.io")
KINDS = ("ahrefs", "semrush", "ahrefs", "semrush", "ahrefs")


_WORDS = (
    "kanban",
    "agile",
    "sprint",
    "roadmap",
    "planner",
    "tasks",
    "project",
    "team",
    "scrum",
    "workflow",
    "gantt",
    "remote",
    "startup",
    "product",
    "devops",
    "review",
    "tools",
    "saas",
)
_TLDS = (
    ("com", 40),
    ("net", 6),
    ("org", 8),
    ("co.uk", 8),
    ("com.au", 4),
    ("de", 6),
    ("io", 4),
    ("fr", 3),
    ("blogspot.com", 5),
    ("github.io", 2),
    ("es", 3),
    ("nl", 2),
    ("xyz", 2),
)
_IDN = ("bücher", "café", "straße")
_TITLES = (
    "Best {w} tools in 2026",
    "{W} guide for teams",
    "Top 10 {w} apps | {W} Mag",
    'The "{w}" checklist',
    "How we run {w}, step by step",
    "{W} resources",
    "Comparison: {w} vs spreadsheets",
    "Guest post: {w} lessons",
    "{W} forum thread",
)
_LANGS = ("en",) * 8 + ("de", "fr", "es", "")
_PAGE_TYPES = ("Article > Listicle", "Article", "Resource page", "Forum", "Directory", "", "")


@dataclass(frozen=True, slots=True)
class _Domain:
    hosts: tuple[str, ...]
    dr: str
    traffic: str
    language: str
    spam: str


def _domain_pool(rng: random.Random, size: int) -> list[_Domain]:
    tlds = [t for t, _ in _TLDS]
    weights = [w for _, w in _TLDS]
    pool = []
    for i in range(size):
        word = rng.choice(_WORDS)
        tld = rng.choices(tlds, weights)[0]
        if rng.random() < 0.01:
            label = f"{_IDN[i % len(_IDN)]}{i}"
            # Both spellings of the same IDN appear, as they do across tools.
            hosts: tuple[str, ...] = (f"{label}.{tld}", f"{_punycode(label)}.{tld}")
        else:
            base = f"{word}-{i}.{tld}"
            variants = [base, f"www.{base}", f"blog.{base}", f"WWW.{base.upper()}", f"{base}."]
            if tld not in ("blogspot.com", "github.io") and rng.random() < 0.05:
                variants.append(f"{base}:8080")
            hosts = tuple(variants[: rng.randint(1, len(variants))])
        dr = rng.betavariate(1.5, 3.5) * 100
        pool.append(
            _Domain(
                hosts=hosts,
                dr=f"{dr:.0f}" if rng.random() < 0.8 else f"{dr:.1f}",
                traffic=str(int(rng.paretovariate(1.2) * 50) - 50),
                language=rng.choice(_LANGS),
                spam="true" if rng.random() < 0.03 else "false",
            )
        )
    return pool


def _punycode(label: str) -> str:
    return "xn--" + label.encode("punycode").decode("ascii")


def _pick(rng: random.Random, size: int, k: int) -> int:
    # Half the rows come from a head shared by every site (the overlap), half
    # from a region of the pool that leans to this site.
    if rng.random() < 0.5:
        return int(size * rng.random() ** 3)
    return (int(size * 0.4 * rng.random() ** 1.5) + k * size // 7) % size


def _row_values(rng: random.Random, dom: _Domain, site: str, k: int) -> dict[str, str]:
    host = rng.choice(dom.hosts)
    word = rng.choice(_WORDS)
    title = rng.choice(_TITLES).format(w=word, W=word.capitalize())
    slug = f"{word}-{rng.randint(1, 400)}"
    target_host = site if rng.random() < 0.7 else f"www.{site}"
    target = f"https://{target_host}/{rng.choice(_WORDS)}/{rng.randint(1, 300)}/"
    if rng.random() < 0.15:
        target = f"https://{target_host}/"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return {
        "title": title,
        "url": f"https://{host}/{word}/{slug}/",
        "target": target,
        "anchor": rng.choice((site.split(".")[0], word, f"{word} guide", "here", "")),
        "nofollow": "true" if rng.random() < 0.3 else "false",
        "ugc": "true" if rng.random() < 0.05 else "false",
        "sponsored": "true" if rng.random() < 0.03 else "false",
        "first": f"2025-{month:02d}-{day:02d}",
        "last": f"2026-{month:02d}-{day:02d}",
        "lost": "" if rng.random() < 0.9 else "2026-10-01 00:00:00",
        "page_type": rng.choice(_PAGE_TYPES),
        "ur": f"{rng.random() * 40:.1f}",
        "code": "200" if rng.random() < 0.97 else "404",
    }


def _write_ahrefs(
    path: Path, rng: random.Random, pool: list[_Domain], site: str, k: int, rows: int
) -> None:
    with path.open("wb") as raw:
        raw.write(b"\xff\xfe")
    with path.open("a", encoding="utf-16-le", newline="") as out:
        writer = csv.writer(out, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(AHREFS_HEADER)
        size = len(pool)
        for _ in range(rows):
            dom = pool[_pick(rng, size, k)]
            v = _row_values(rng, dom, site, k)
            lost = v["lost"]
            writer.writerow(
                (
                    v["title"],
                    v["url"],
                    dom.language,
                    "wordpress",
                    v["code"],
                    dom.dr,
                    v["ur"],
                    dom.traffic,
                    "35",
                    "120",
                    "140",
                    "900",
                    "117",
                    v["target"],
                    "compare it with ",
                    v["anchor"],
                    " for teams",
                    "",
                    "",
                    "text",
                    dom.spam,
                    "true",
                    v["nofollow"],
                    v["ugc"],
                    v["sponsored"],
                    "false",
                    "true",
                    "removed" if lost else "",
                    "",
                    "pagefound",
                    v["first"] + " 17:57:55",
                    v["last"] + " 19:50:47",
                    lost,
                    "",
                    v["page_type"],
                    "Business > Software",
                    "8",
                )
            )


def _write_semrush(
    path: Path, rng: random.Random, pool: list[_Domain], site: str, k: int, rows: int
) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SEMRUSH_HEADER)
        size = len(pool)
        for _ in range(rows):
            dom = pool[_pick(rng, size, k)]
            v = _row_values(rng, dom, site, k)
            writer.writerow(
                (
                    dom.dr,
                    v["title"],
                    v["url"],
                    v["target"],
                    v["anchor"],
                    "12",
                    "21",
                    v["nofollow"],
                    v["sponsored"],
                    v["ugc"],
                    "true",
                    "false",
                    "false",
                    "false",
                    "false",
                    v["first"],
                    v["last"],
                    "false",
                    "true" if v["lost"] else "false",
                )
            )


def ensure_exports(rows: int = ROWS, directory: Path = DATA_DIR) -> list[tuple[str, Path]]:
    """Return (site, path) of the five exports, generating any that are missing."""
    directory.mkdir(parents=True, exist_ok=True)
    pool: list[_Domain] | None = None
    out = []
    for k, (site, kind) in enumerate(zip(SITES, KINDS, strict=True)):
        path = directory / f"v{VERSION}-{rows}-{site}-{kind}-backlinks.csv"
        if not path.exists():
            if pool is None:
                pool = _domain_pool(random.Random(1234), max(100, int(rows * POOL_SHARE)))
            tmp = path.with_suffix(".tmp")
            writer = _write_ahrefs if kind == "ahrefs" else _write_semrush
            writer(tmp, random.Random(k), pool, site, k, rows)
            tmp.replace(path)
        out.append((site, path))
    return out


if __name__ == "__main__":
    for site, path in ensure_exports():
        print(site, path, f"{path.stat().st_size / 2**20:.0f} MiB")


# -- the referring-domains-heavy shape (DESIGN §9, issue 12) -----------------------------

REFDOMAINS_DOMAINS = 800_000
REFDOMAINS_ROWS = 400_000
OWN_ROWS = 100_000
# (site, format) of the five files: our backlinks, two competitors' backlinks, two
# competitors' referring-domains exports (one row per domain).
REFDOMAINS_FILES = (
    ("our-site.com", "semrush-backlinks"),
    ("rival-a.com", "ahrefs-backlinks"),
    ("rival-b.co.uk", "semrush-backlinks"),
    ("rival-c.com", "ahrefs-refdomains"),
    ("rival-d.io", "semrush-refdomains"),
)


def _write_ahrefs_refdomains(path: Path, pool: list[_Domain], indexes: range, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("wb") as raw:
        raw.write(b"\xff\xfe")
    with path.open("a", encoding="utf-16-le", newline="") as out:
        writer = csv.writer(out, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(AHREFS_REFDOMAINS_HEADER)
        for i in indexes:
            dom = pool[i]
            links = int(rng.paretovariate(1.3))
            writer.writerow((dom.hosts[0], dom.spam, dom.dr, "120", "40", dom.traffic, "300",
                             str(links), str(links if rng.random() < 0.7 else 0),
                             "2024-10-27 17:57:55", ""))  # fmt: skip


def _write_semrush_refdomains(path: Path, pool: list[_Domain], indexes: range, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SEMRUSH_REFDOMAINS_HEADER)
        for i in indexes:
            dom = pool[i]
            writer.writerow((dom.dr, dom.hosts[0], str(int(rng.paretovariate(1.3))),
                             "151.101.3.10", "us", "2024-05-20", "2026-02-05"))  # fmt: skip


def ensure_refdomains_exports(
    scale: float = 1.0, directory: Path = DATA_DIR
) -> list[tuple[str, Path]]:
    """Return (site, path) of the referring-domains-heavy set, generating what is missing.

    At scale 1: our 100,000 backlinks, two competitors' 400,000 backlinks and two
    competitors' 400,000 referring domains (overlapping by a tenth), about 800,000
    distinct referring domains in all.
    """
    directory.mkdir(parents=True, exist_ok=True)
    domains = max(200, int(REFDOMAINS_DOMAINS * scale))
    rows = max(100, int(REFDOMAINS_ROWS * scale))
    own = max(50, int(OWN_ROWS * scale))
    pool: list[_Domain] | None = None
    out = []
    for k, (site, kind) in enumerate(REFDOMAINS_FILES):
        path = directory / f"v{VERSION}-rd{domains}-{site}-{kind}.csv"
        if not path.exists():
            if pool is None:
                pool = _domain_pool(random.Random(4321), domains)
            tmp = path.with_suffix(".tmp")
            if kind == "ahrefs-refdomains":
                _write_ahrefs_refdomains(tmp, pool, range(0, rows), k)
            elif kind == "semrush-refdomains":
                start = domains - rows - rows // 10 if domains > rows else 0
                _write_semrush_refdomains(tmp, pool, range(start, min(domains, start + rows)), k)
            elif kind == "ahrefs-backlinks":
                _write_ahrefs(tmp, random.Random(k), pool, site, k, rows)
            else:
                _write_semrush(tmp, random.Random(k), pool, site, k, own if k == 0 else rows)
            tmp.replace(path)
        out.append((site, path))
    return out
