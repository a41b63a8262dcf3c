"""Angles, sequences, mailboxes, enrollments and the outbox of touches."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from crm.models.contact import Contact
    from crm.models.prospect import Prospect


class Angle(db.Model):  # type: ignore[name-defined]
    """An outreach angle; the built-ins are seeded, teams add their own."""

    __tablename__ = "angles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(120), unique=True)
    hint: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    sequence: Mapped[Sequence | None] = relationship(back_populates="angle", uselist=False)


class Sequence(db.Model):  # type: ignore[name-defined]
    """The ordered touches of one angle."""

    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    angle_id: Mapped[int] = mapped_column(ForeignKey("angles.id", ondelete="CASCADE"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    angle: Mapped[Angle] = relationship(back_populates="sequence")
    steps: Mapped[list[SequenceStep]] = relationship(
        back_populates="sequence", cascade="all, delete-orphan", order_by="SequenceStep.position"
    )


class SequenceStep(db.Model):  # type: ignore[name-defined]
    __tablename__ = "sequence_steps"
    __table_args__ = (UniqueConstraint("sequence_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()  # 1-based
    day_offset: Mapped[int] = mapped_column(default=0)  # days after the first touch
    # Empty subject on a follow-up: "Re: " + the first touch's subject.
    subject_template: Mapped[str] = mapped_column(Text, default="")
    body_template: Mapped[str] = mapped_column(Text, default="")

    sequence: Mapped[Sequence] = relationship(back_populates="steps")


class Security(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


campaign_mailboxes = Table(
    "campaign_mailboxes",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("mailbox_id", ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True),
)


class Mailbox(db.Model):  # type: ignore[name-defined]
    """An SMTP + IMAP account we send from and read replies in."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    from_email: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str] = mapped_column(String(120), default="")
    username: Mapped[str] = mapped_column(String(254))
    # Fernet token of the password (crm.crypto); never shown back.
    password_encrypted: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    smtp_host: Mapped[str] = mapped_column(String(253))
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_security: Mapped[Security] = mapped_column(str_enum(Security), default=Security.STARTTLS)
    imap_host: Mapped[str] = mapped_column(String(253))
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[Security] = mapped_column(str_enum(Security), default=Security.TLS)
    # IMAP folders polled for replies, comma separated.
    imap_folders: Mapped[str] = mapped_column(String(500), default="INBOX")
    daily_cap: Mapped[int] = mapped_column(Integer, default=50)
    min_spacing_seconds: Mapped[int] = mapped_column(Integer, default=120)
    window_start: Mapped[str] = mapped_column(String(5), default="09:00")  # HH:MM local
    window_end: Mapped[str] = mapped_column(String(5), default="17:00")
    days: Mapped[str] = mapped_column(String(40), default="mon,tue,wed,thu,fri")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    paused: Mapped[bool] = mapped_column(default=False)
    paused_reason: Mapped[str] = mapped_column(Text, default="")
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The daily cap's counter: sends in the local day starting at cap_day_start
    # (UTC), updated with a compare-and-set as each send starts, so several
    # workers can never pass the cap or the spacing together.
    cap_day_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cap_day_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def domain(self) -> str:
        return self.from_email.rsplit("@", 1)[-1].lower()


class EnrollmentState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


class StopReason(enum.StrEnum):
    REPLIED = "replied"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    WON = "won"
    MANUAL = "manual"


class Enrollment(db.Model):  # type: ignore[name-defined]
    """One contact of one prospect going through one sequence."""

    __tablename__ = "enrollments"
    __table_args__ = (Index("ix_enrollments_prospect_state", "prospect_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id"))
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    # Angle slug at enrollment time (the report groups by it even if the angle changes).
    angle: Mapped[str] = mapped_column(String(80))
    state: Mapped[EnrollmentState] = mapped_column(
        str_enum(EnrollmentState), default=EnrollmentState.ACTIVE
    )
    stop_reason: Mapped[StopReason | None] = mapped_column(str_enum(StopReason))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    prospect: Mapped[Prospect] = relationship()
    contact: Mapped[Contact] = relationship()
    sequence: Mapped[Sequence] = relationship()
    mailbox: Mapped[Mailbox] = relationship()
    touches: Mapped[list[Touch]] = relationship(
        back_populates="enrollment", cascade="all, delete-orphan", order_by="Touch.step"
    )


class TouchState(enum.StrEnum):
    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


# The groups of touch states every query and rule uses (crm.outreach.outbox draws the machine).
TOUCH_QUEUED = frozenset({TouchState.SCHEDULED, TouchState.RETRY_WAIT})  # waiting to be claimed
# A claim's holder may still record an outcome (a `sending` recovered as uncertain
# may yet get its late 250 recorded).
TOUCH_HELD = frozenset({TouchState.CLAIMED, TouchState.SENDING, TouchState.UNCERTAIN})
# Nothing has gone out yet and nothing will before the holder commits `sending`.
TOUCH_CANCELLABLE = TOUCH_QUEUED | {TouchState.CLAIMED}
# Not sent and not given up: a later step of the same enrollment waits for these.
TOUCH_UNFINISHED = TOUCH_QUEUED | TOUCH_HELD
# Nothing will change them any more.
TOUCH_FINAL = frozenset({TouchState.SENT, TouchState.FAILED, TouchState.CANCELLED})
# A person should look: the send failed, may have gone out, or is being retried.
TOUCH_TROUBLED = frozenset({TouchState.UNCERTAIN, TouchState.FAILED, TouchState.RETRY_WAIT})
# The note of a touch the gate blocks until a person acts (a deferral's note is only a wait).
BLOCKED_NOTE_PREFIX = "blocked: "
# The queue's condition as constant SQL, for the partial index the claim walks.
_QUEUED_SQL = "state IN ({})".format(
    ", ".join(f"'{s.value}'" for s in TouchState if s in TOUCH_QUEUED)
)


class Touch(db.Model):  # type: ignore[name-defined]
    """One scheduled or sent email of an enrollment: a row of the outbox."""

    __tablename__ = "touches"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step"),
        Index("ix_touches_state_due", "state", "due_at"),
        # The outbox's queue: only touches still to send, in due order, so claiming
        # stays cheap however many sent touches the table holds.
        Index(
            "ix_touches_pending_due",
            "due_at",
            "id",
            postgresql_where=text(_QUEUED_SQL),
            sqlite_where=text(_QUEUED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column()  # 1-based position in the sequence
    # Assigned when the touch is planned, so a retry re-sends the same message.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[TouchState] = mapped_column(str_enum(TouchState), default=TouchState.SCHEDULED)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Lease of the worker that claimed it; an expired lease returns it to the queue.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the touch is deferred, blocked or failed; the SMTP reply when there is one.
    last_error: Mapped[str] = mapped_column(Text, default="")
    smtp_reply: Mapped[str] = mapped_column(Text, default="")
    # Personalised before sending: this prospect's own subject/body templates, used
    # instead of the step's (the sequence is untouched).
    subject_override: Mapped[str | None] = mapped_column(Text)
    body_override: Mapped[str | None] = mapped_column(Text)
    # A first email of a campaign in "needs review" mode waits here until approved.
    held_for_review: Mapped[bool] = mapped_column(default=False)

    enrollment: Mapped[Enrollment] = relationship(back_populates="touches")


class OneOffMessage(db.Model):  # type: ignore[name-defined]
    """One email written once (a reply, a reclamation follow-up, a digest), sent by the pass.

    It goes through the same states as a touch (TouchState) and the same send
    pass, so it is sent at most once, from its mailbox, after the same checks.
    """

    __tablename__ = "one_off_messages"
    __table_args__ = (Index("ix_one_off_messages_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    # The prospect whose timeline records it; None for mail to a teammate (the digest).
    prospect_id: Mapped[int | None] = mapped_column(
        ForeignKey("prospects.id", ondelete="SET NULL"), index=True
    )
    to_email: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")  # Message-IDs, oldest first
    state: Mapped[TouchState] = mapped_column(str_enum(TouchState), default=TouchState.SCHEDULED)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    smtp_reply: Mapped[str] = mapped_column(Text, default="")

    mailbox: Mapped[Mailbox] = relationship()


class WorkerLock(db.Model):  # type: ignore[name-defined]
    """A named lease held by one process (the single `crm worker`)."""

    __tablename__ = "worker_locks"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
