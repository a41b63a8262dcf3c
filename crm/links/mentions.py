"""Unlinked mentions: prospect pages that name our brand or site without linking to it.

Such a prospect is an easy ask ("you mention us; would you link the mention?"):
it gets the `unlinked-mention` angle suggested, with the sentence that
mentions us kept as its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from crm.core.domains import DomainError, registrable_domain
from crm.core.storable import storable
from crm.extensions import db
from crm.links.fetch import PageFetcher
from crm.links.page import decode_page, linked_keys, visible_text
from crm.models import Evidence, Prospect, UnlinkedMention, utcnow

UNLINKED_ANGLE = "unlinked-mention"
MAX_PAGES = 10
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Mention:
    sentence: str
    linked: bool


def _names(brand: str, site_domain: str) -> list[re.Pattern[str]]:
    names = {site_domain.lower()}
    if brand.strip():
        names.add(brand.strip().lower())
    return [re.compile(rf"(?<![\w.-]){re.escape(n)}(?![\w-])", re.IGNORECASE) for n in names]


def find_mention(html: str, page_url: str, *, brand: str, site_domain: str) -> Mention | None:
    """The first sentence naming the brand or site, and whether the page links to the site."""
    text = visible_text(html)
    patterns = _names(brand, site_domain)
    sentence = next(
        (s for s in _SENTENCE_END.split(text) if any(p.search(s) for p in patterns)), None
    )
    if sentence is None:
        return None
    linked = False
    for key in linked_keys(html, page_url):
        host = key.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        try:
            linked = linked or registrable_domain(host) == site_domain
        except DomainError:
            continue
    return Mention(sentence=sentence.strip()[:400], linked=linked)


def known_pages(prospect: Prospect) -> list[str]:
    """The prospect's pages we know of: its evidence pages, else its home page."""
    urls = db.session.scalars(
        select(Evidence.page_url)
        .where(Evidence.prospect_id == prospect.id)
        .distinct()
        .order_by(Evidence.page_url)
        .limit(MAX_PAGES)
    ).all()
    return list(urls) or [f"https://{prospect.domain}/"]


def find_unlinked_mentions(prospect: Prospect, fetcher: PageFetcher) -> list[UnlinkedMention]:
    """Fetch a prospect's known pages and record which mention us without a link (flushes)."""
    campaign = prospect.campaign
    brand, site = campaign.site.name or "", campaign.site.domain
    results = []
    for url in known_pages(prospect):
        fetched = fetcher.fetch(url)
        unlinked, sentence = False, ""
        if fetched.problem is not None:
            detail = f"could not read the page: {fetched.problem}"
        elif not 200 <= (fetched.status or 0) < 300:
            detail = f"could not read the page: HTTP {fetched.status}"
        else:
            html, _ = decode_page(fetched.body or b"", fetched.content_type)
            mention = find_mention(html, fetched.final_url or url, brand=brand, site_domain=site)
            if mention is None:
                detail = "no mention of the brand or the site"
            elif mention.linked:
                detail, sentence = "mentions us and already links to the site", mention.sentence
            else:
                unlinked, sentence = True, mention.sentence
                detail = "mentions us without a link"
        results.append(_store(prospect, url, unlinked, sentence, detail))
    db.session.flush()
    return results


def _store(
    prospect: Prospect, url: str, unlinked: bool, sentence: str, detail: str
) -> UnlinkedMention:
    row = db.session.scalar(
        select(UnlinkedMention).where(
            UnlinkedMention.prospect_id == prospect.id, UnlinkedMention.url == url
        )
    )
    if row is None:
        row = UnlinkedMention(prospect=prospect, url=url)
        db.session.add(row)
    row.checked_at = utcnow()
    # The page's words and a fetch problem's text are hostile (a NUL cannot be stored).
    row.unlinked, row.sentence, row.detail = unlinked, storable(sentence), storable(detail[:1000])
    return row


def mentions_of(prospect: Prospect) -> list[UnlinkedMention]:
    return list(
        db.session.scalars(
            select(UnlinkedMention)
            .where(UnlinkedMention.prospect_id == prospect.id)
            .order_by(UnlinkedMention.unlinked.desc(), UnlinkedMention.url)
        )
    )
