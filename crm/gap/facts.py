"""What an import found out per referring domain: plain values for the gap and the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm.gap.exports import Evidence

if TYPE_CHECKING:
    from crm.gap.page_rules import PageVerdict


class DomainFacts:
    """What the exports say about one referring domain (DESIGN §4).

    `backlinks[site]` counts live links (the export's own count where it has
    one); `lost[site]` counts links the tools report as gone. `dofollow` is
    None when no export says; `paid_or_ugc_only` is True when every link
    whose rel is known is sponsored or UGC. `evidence[site]` holds the best
    few referring pages, `targets[site]` up to TARGETS_PER_SITE target URLs.
    `verdicts` holds its pages' verdicts (crm.gap.page_rules) when the
    reduction judged them, by `verdict_key(page)`; None when nobody did.
    """

    __slots__ = (
        "authority",
        "backlinks",
        "dofollow",
        "domain",
        "evidence",
        "language",
        "lost",
        "paid_or_ugc_only",
        "spam",
        "targets",
        "traffic",
        "verdicts",
    )

    def __init__(
        self,
        domain: str,
        *,
        backlinks: dict[str, int] | None = None,
        lost: dict[str, int] | None = None,
        authority: float | None = None,
        traffic: int | None = None,
        dofollow: bool | None = None,
        paid_or_ugc_only: bool = False,
        spam: bool | None = None,
        language: str | None = None,
        evidence: dict[str, tuple[Evidence, ...]] | None = None,
        targets: dict[str, tuple[str, ...]] | None = None,
        verdicts: dict[tuple[Any, ...], PageVerdict] | None = None,
    ) -> None:
        self.domain = domain
        self.backlinks = backlinks if backlinks is not None else {}
        self.lost = lost if lost is not None else {}
        self.authority = authority
        self.traffic = traffic
        self.dofollow = dofollow
        self.paid_or_ugc_only = paid_or_ugc_only
        self.spam = spam
        self.language = language
        self.evidence = evidence if evidence is not None else {}
        self.targets = targets if targets is not None else {}
        self.verdicts = verdicts

    @property
    def sites(self) -> frozenset[str]:
        """The sites this domain links to now (live backlinks)."""
        return frozenset(s for s, n in self.backlinks.items() if n > 0)

    def _key(self) -> tuple:
        return (
            self.domain,
            self.backlinks,
            self.lost,
            self.authority,
            self.traffic,
            self.dofollow,
            self.paid_or_ugc_only,
            self.spam,
            self.language,
            self.evidence,
            self.targets,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainFacts):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"DomainFacts({self.domain!r}, backlinks={self.backlinks!r}, lost={self.lost!r}, "
            f"authority={self.authority!r}, traffic={self.traffic!r}, "
            f"dofollow={self.dofollow!r}, spam={self.spam!r})"
        )


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What one file contributed, for the import page."""

    display_name: str
    format_id: str
    label: str
    owners: tuple[str, ...]
    records: int
    skipped: int
    skipped_lines: tuple[int, ...]
    domains: int
    ignored_sites: tuple[str, ...] = ()
