"""Google Search Console · Links · Top linking sites (CSV, or the ZIP it comes in).

Three columns: site, linking pages, target pages. Headers are translated into
the account's language, so the file is recognised by its shape (three
columns, a known word for "site" first, or known words for the two counts);
counts may carry thousands separators ("1,240", "1.240", "1 240").
"""

from __future__ import annotations

from collections.abc import Sequence

from crm.gap.exports.cells import GROUPED_COUNT, URL
from crm.gap.exports.formats import ExportFormat, LinkRule, Match, col, header_key

# en, de, fr, es, it, pt, nl (and older "Links to your site" wording).
SITE_WORDS = frozenset(
    header_key(w)
    for w in (
        "Site",
        "Sites",
        "Linking site",
        "Linking sites",
        "Top linking sites",
        "Domains",
        "Website",
        "Websites",
        "Verweisende Websites",
        "Site web",
        "Sites web",
        "Sitio",
        "Sitios",
        "Sitio web",
        "Sitios web",
        "Sito",
        "Siti",
        "Sito web",
        "Siti web",
        "Sítio",
        "Sites de referência",
        "Webpagina",
        "Sitenaam",
    )
)
LINKING_WORDS = frozenset(
    header_key(w)
    for w in (
        "Linking pages",
        "Links",
        "Verweisende Seiten",
        "Verlinkende Seiten",
        "Pages avec liens",
        "Pages de liens",
        "Pages contenant des liens",
        "Pages d'origine",
        "Páginas que enlazan",
        "Páginas con enlaces",
        "Páginas de enlace",
        "Pagine che rimandano",
        "Pagine con link",
        "Pagine di collegamento",
        "Páginas com links",
        "Páginas de links",
        "Páginas vinculadas",
        "Páginas que vinculam",
        "Linkende pagina's",
        "Pagina's met links",
        "Pagina's die linken",
    )
)
TARGET_WORDS = frozenset(
    header_key(w)
    for w in (
        "Target pages",
        "Linked pages",
        "Zielseiten",
        "Pages cibles",
        "Páginas de destino",
        "Páginas objetivo",
        "Pagine di destinazione",
        "Pagine target",
        "Páginas alvo",
        "Doelpagina's",
        "Doelpagina’s",
    )
)


class GscTopLinkingSites(ExportFormat):
    id = "gsc-top-linking-sites"
    label = "Google Search Console Top linking sites"
    required = {"domain": col("Site", kind=URL)}
    optional = {
        "backlinks": col("Linking pages", kind=GROUPED_COUNT),
        "targets": col("Target pages", kind=GROUPED_COUNT),  # checked, not used by the gap
    }
    link = LinkRule(domain="domain", backlinks="coalesce(backlinks, 1)")

    def match(self, header: Sequence[str], keys: Sequence[str]) -> Match | None:
        if len(keys) not in (2, 3):
            return None
        known = (keys[0] in SITE_WORDS) + (keys[1] in LINKING_WORDS)
        known += len(keys) == 3 and keys[2] in TARGET_WORDS
        if keys[0] not in SITE_WORDS and known < 2:
            return None
        columns = {"domain": 0, "backlinks": 1}
        if len(keys) == 3:
            columns["targets"] = 2
        return Match(self, columns, score=known + 1)

    def partial_score(self, keys: Sequence[str]) -> float:
        return 0.5 if keys and keys[0] in SITE_WORDS else 0.0


FORMATS: tuple[ExportFormat, ...] = (GscTopLinkingSites(),)
