"""The gap settings of a campaign, kept in Campaign.settings["gap"].

Documented keys (all optional; defaults in GapConfig):

- `min_authority` (number or null): hide prospects below this DR/authority.
- `min_traffic` (integer or null): hide prospects below this traffic.
- `dofollow_only` (bool): hide prospects without any followed link.
- `exclude_spam` (bool, default true): hide domains a tool flags as spam.
- `exclude_paid_or_ugc_only` (bool, default true): hide domains whose links
  are all sponsored or UGC.
- `exclude_tlds` (list of str): hide domains under these suffixes (`xyz`).
- `languages` (list of str): keep only pages in these languages (empty: any).
- `exclude_patterns` (list of `directory`, `press_release`, `blogroll`): URL
  and title patterns that hide a domain (default: all three).
- `blocklist` (list of str): domains never to pursue.
- `keywords` (list of str): topic keywords for relevance (the target pages'
  topics count too).
- `weights` ({authority, relevance, feasibility}: number): weights of the
  total score, normalised to sum 1.

The minimum overlap N of the gap is the `Campaign.min_overlap` column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from crm.core.errors import UserError
from crm.gap.qualify import CampaignFilters, ExclusionRules
from crm.gap.scoring import ScoreWeights
from crm.models import Campaign

PATTERN_GROUPS = ("directory", "press_release", "blogroll")
_DEFAULT = ScoreWeights()
DEFAULT_WEIGHTS = {
    "authority": _DEFAULT.authority,
    "relevance": _DEFAULT.relevance,
    "feasibility": _DEFAULT.feasibility,
}


@dataclass(frozen=True)
class GapConfig:
    """A campaign's qualification rules, topic keywords and score weights."""

    min_authority: float | None = None
    min_traffic: int | None = None
    dofollow_only: bool = False
    exclude_spam: bool = True
    exclude_paid_or_ugc_only: bool = True
    exclude_tlds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = PATTERN_GROUPS
    blocklist: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def filters(self, min_overlap: int) -> CampaignFilters:
        """Return the campaign filters of crm.gap.qualify."""
        return CampaignFilters(
            min_overlap=min_overlap,
            min_authority=self.min_authority,
            min_traffic=self.min_traffic,
            dofollow_only=self.dofollow_only,
        )

    def rules(self) -> ExclusionRules:
        """Return the exclusion rules of crm.gap.qualify."""
        return ExclusionRules.build(
            excluded_tlds=self.exclude_tlds,
            languages=self.languages,
            blocklist=self.blocklist,
            spam=self.exclude_spam,
            directories="directory" in self.exclude_patterns,
            press_releases="press_release" in self.exclude_patterns,
            blogrolls="blogroll" in self.exclude_patterns,
            paid_or_ugc_only=self.exclude_paid_or_ugc_only,
        )

    def score_weights(self) -> ScoreWeights:
        return ScoreWeights(**self.weights)


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return tuple(dict.fromkeys(str(v).strip().lower().lstrip(".") for v in value if str(v).strip()))


def _number(value: Any, what: str, *, integer: bool = False) -> Any:
    if value in (None, ""):
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise UserError(f"{what} must be a number, got {value!r}", field=what) from None
    if number < 0:
        raise UserError(f"{what} cannot be negative", field=what)
    return number


def parse_config(raw: Mapping[str, Any]) -> GapConfig:
    """Build a GapConfig from stored or submitted values (UserError on bad ones)."""
    patterns = _words(raw.get("exclude_patterns", PATTERN_GROUPS))
    unknown = [p for p in patterns if p not in PATTERN_GROUPS]
    if unknown:
        raise UserError(f"unknown pattern group(s): {', '.join(unknown)}", field="exclude_patterns")
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (raw.get("weights") or {}).items():
        if name not in DEFAULT_WEIGHTS:
            raise UserError(f"unknown score part {name!r}", field="weights")
        weights[name] = float(_number(value, f"weight of {name}") or 0.0)
    total = sum(weights.values())
    if total <= 0:
        raise UserError("at least one score weight must be above 0", field="weights")
    return GapConfig(
        min_authority=_number(raw.get("min_authority"), "min_authority"),
        min_traffic=_number(raw.get("min_traffic"), "min_traffic", integer=True),
        dofollow_only=bool(raw.get("dofollow_only", False)),
        exclude_spam=bool(raw.get("exclude_spam", True)),
        exclude_paid_or_ugc_only=bool(raw.get("exclude_paid_or_ugc_only", True)),
        exclude_tlds=_words(raw.get("exclude_tlds")),
        languages=_words(raw.get("languages")),
        exclude_patterns=patterns,
        blocklist=_words(raw.get("blocklist")),
        keywords=_words(raw.get("keywords")),
        weights={k: round(v / total, 4) for k, v in weights.items()},
    )


def campaign_config(campaign: Campaign) -> GapConfig:
    """Return the campaign's gap settings (defaults for what is not set)."""
    return parse_config((campaign.settings or {}).get("gap") or {})


def save_config(campaign: Campaign, raw: Mapping[str, Any]) -> GapConfig:
    """Validate and store gap settings on the campaign (flush by the caller's session)."""
    config = parse_config(raw)
    settings = dict(campaign.settings or {})
    settings["gap"] = config.as_json()
    campaign.settings = settings
    return config
