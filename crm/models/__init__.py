"""All models, imported here so Alembic and the app see one metadata."""

from crm.models.base import UTCDateTime, utcnow
from crm.models.campaign import Campaign, Competitor, Site, TargetCategory, TargetPage
from crm.models.contact import Contact, Suppression, SuppressionKind
from crm.models.digest import DigestSubscription
from crm.models.gap import ColumnMapping, Evidence, GapImport, ImportState, SnapshotDomain
from crm.models.inbound import (
    InboundKind,
    InboundMessage,
    MailboxFolder,
    Notification,
    ReplyOutcome,
)
from crm.models.link import (
    AnchorType,
    CheckResult,
    LinkCheck,
    LinkRel,
    LinkState,
    ReclamationState,
    ReclamationTask,
    UnlinkedMention,
    WonLink,
)
from crm.models.outreach import (
    Angle,
    Enrollment,
    EnrollmentState,
    Mailbox,
    Security,
    Sequence,
    SequenceStep,
    StopReason,
    Touch,
    TouchState,
    WorkerLock,
)
from crm.models.prospect import Prospect, ProspectStatus, Touchpoint, TouchpointKind
from crm.models.ranking import RankImport, RankObservation, RankSource
from crm.models.user import AuditLog, Role, User

__all__ = [
    "AnchorType",
    "Angle",
    "AuditLog",
    "Campaign",
    "CheckResult",
    "ColumnMapping",
    "Competitor",
    "Contact",
    "DigestSubscription",
    "Enrollment",
    "EnrollmentState",
    "Evidence",
    "GapImport",
    "ImportState",
    "InboundKind",
    "InboundMessage",
    "LinkCheck",
    "LinkRel",
    "LinkState",
    "Mailbox",
    "MailboxFolder",
    "Notification",
    "Prospect",
    "ProspectStatus",
    "RankImport",
    "RankObservation",
    "RankSource",
    "ReclamationState",
    "ReclamationTask",
    "ReplyOutcome",
    "Role",
    "Security",
    "Sequence",
    "SequenceStep",
    "Site",
    "SnapshotDomain",
    "StopReason",
    "Suppression",
    "SuppressionKind",
    "TargetCategory",
    "TargetPage",
    "Touch",
    "TouchState",
    "Touchpoint",
    "TouchpointKind",
    "UTCDateTime",
    "UnlinkedMention",
    "User",
    "WonLink",
    "WorkerLock",
    "utcnow",
]
