"""All models, imported here so Alembic and the app see one metadata."""

from crm.models.base import UTCDateTime, utcnow
from crm.models.campaign import Campaign, Competitor, Site, TargetCategory, TargetPage
from crm.models.contact import Contact, Suppression, SuppressionKind
from crm.models.prospect import Prospect, ProspectStatus, Touchpoint, TouchpointKind
from crm.models.user import AuditLog, Role, User

__all__ = [
    "AuditLog",
    "Campaign",
    "Competitor",
    "Contact",
    "Prospect",
    "ProspectStatus",
    "Role",
    "Site",
    "Suppression",
    "SuppressionKind",
    "TargetCategory",
    "TargetPage",
    "Touchpoint",
    "TouchpointKind",
    "UTCDateTime",
    "User",
    "utcnow",
]
