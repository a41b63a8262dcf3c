"""The gap pages: the table and its bulk actions, imports, the rules page, the prospect panel.

Every route is an endpoint of one blueprint, "gap" (crm.web.gap.blueprint);
importing this package attaches them all.
"""

from crm.web.gap import (
    assets,
    campaign_panel,
    changes,
    imports,
    manual,
    prospect,
    rules,
    table,
)
from crm.web.gap.blueprint import bp

__all__ = [
    "assets",
    "bp",
    "campaign_panel",
    "changes",
    "imports",
    "manual",
    "prospect",
    "rules",
    "table",
]
