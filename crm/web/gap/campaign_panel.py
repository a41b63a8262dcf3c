"""The gap panel of the campaign page: snapshot, diff, stale reminder, hidden counts."""

from __future__ import annotations

from typing import Any

from crm.gap.qualify import RULE_LABELS
from crm.gap.queries import hidden_reasons
from crm.gap.service import latest_snapshot, own_export_missing, stale_reminder
from crm.models import Campaign, utcnow
from crm.web.gap.blueprint import bp


@bp.app_template_global()
def gap_campaign_summary(campaign: Campaign) -> dict[str, Any]:
    """The gap panel of the campaign page: snapshot, diff, stale reminder, hidden counts."""
    snapshot = latest_snapshot(campaign)
    return {
        "snapshot": snapshot,
        "stale": stale_reminder(campaign, utcnow()),
        "own_missing": own_export_missing(snapshot, campaign),
        "hidden": hidden_reasons(campaign.id) if snapshot is not None else {},
        "labels": RULE_LABELS,
    }
