"""One pass of the IMAP poller over every mailbox and folder: the database side (DESIGN §6).

For each mailbox (paused ones too: a reply that arrives while sending is
paused must stop its sequence before sending resumes) and each folder in
`Mailbox.imap_folders`, `crm.mail.imap.poll_folder` reads what is new since the
folder's `MailboxFolder` cursor, in batches of `POLL_BATCH` messages. Each
batch is matched, classified and stored, its effects applied
(`crm.replies.receive`) and the cursor advanced in ONE
transaction, so a crash or a dropped connection loses and repeats nothing: the
next pass starts from the last committed cursor. Messages are de-duplicated
by (mailbox, Message-ID), so the bounded rescan after a UIDVALIDITY change
(`POLL_RESCAN_DAYS`) and a message filed in two polled folders count once.
Our own sent copies are recognised and never stored.

The first poll of a folder reads the mail that arrived since the earlier of
`POLL_FIRST_SYNC_DAYS` days ago (default 14) and the day before the first
touch this mailbox sent: older mail cannot answer anything we sent, and a
mailbox with years of history is not dragged into the triage inbox.

A failure is written on the folder (`MailboxFolder.last_error`) and the pass
goes on with the next mailbox; a message whose effects fail is stored with
the error instead of its effects, so it never blocks the folder.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from imapclient import IMAPClient
from sqlalchemy import func, select

from crm.core.errors import UserError
from crm.extensions import db
from crm.jobs import acquire_lock, lock_holder_id, release_lock, renew_lock
from crm.mail.imap import (
    RESCAN_DAYS,
    Cursor,
    FetchedMessage,
    ImapConnectionLost,
    ImapError,
    ImapSettings,
    PollBatch,
    connect,
    poll_folder,
)
from crm.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    MailboxFolder,
    Touch,
    utcnow,
)
from crm.models.inbound import AUTO_KINDS, BOUNCE_KINDS, REPLY_KINDS
from crm.outreach.mailboxes import mailbox_password
from crm.replies.receive import (
    DbTouchLookup,
    our_addresses,
    receive_messages,
    store_unreadable,
)

log = logging.getLogger("crm.poller")

COUNT_KEYS = ("fetched", "replies", "auto_replies", "bounces", "unmatched", "errors")


@dataclass(frozen=True)
class PollSettings:
    """How a pass polls; read from the app config (``CRM_<NAME>``)."""

    connect_timeout: float = 15.0  # IMAP_CONNECT_TIMEOUT seconds
    read_timeout: float = 60.0  # IMAP_READ_TIMEOUT seconds
    ca_file: str | None = None  # IMAP_CA_FILE: trust this CA too (a private CA)
    batch: int = 200  # POLL_BATCH: messages stored per transaction
    first_sync_days: int = 14  # POLL_FIRST_SYNC_DAYS
    rescan_days: int = RESCAN_DAYS  # POLL_RESCAN_DAYS, after a UIDVALIDITY change

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PollSettings:
        return cls(
            connect_timeout=float(config.get("IMAP_CONNECT_TIMEOUT") or 15),
            read_timeout=float(config.get("IMAP_READ_TIMEOUT") or 60),
            ca_file=config.get("IMAP_CA_FILE") or None,
            batch=max(1, int(config.get("POLL_BATCH") or 200)),
            first_sync_days=int(config.get("POLL_FIRST_SYNC_DAYS") or 14),
            rescan_days=int(config.get("POLL_RESCAN_DAYS") or RESCAN_DAYS),
        )


def job_poll_inbox() -> dict[str, int]:
    """The `crm worker` job: one pass at the current time."""
    return run_poll_pass()


def run_poll_pass(
    now: datetime | None = None, *, settings: PollSettings | None = None
) -> dict[str, int]:
    """Poll every mailbox once; return counts {"fetched", "replies", "auto_replies", ...}.

    `fetched` counts new messages stored; `replies` (human replies and
    unsubscribe requests), `auto_replies` (auto-replies and out-of-office) and
    `bounces` count those matched to a touch; `unmatched` those left in triage;
    `errors` the folders that could not be read this time (see their last_error).
    """
    settings = settings or PollSettings.from_config(current_app.config)
    now = now or utcnow()
    counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    mailbox_ids = list(db.session.scalars(select(Mailbox.id).order_by(Mailbox.id)))
    ours = our_addresses()
    db.session.commit()
    for mailbox_id in mailbox_ids:
        _MailboxPoll(mailbox_id, settings, now, ours, counts).run()
    return dict(counts)


def mailbox_folders(mailbox: Mailbox) -> list[str]:
    """Return the folders polled for a mailbox (INBOX when none is configured)."""
    names = [f.strip() for f in (mailbox.imap_folders or "").split(",") if f.strip()]
    return list(dict.fromkeys(names)) or ["INBOX"]


# --- one mailbox ----------------------------------------------------------------------


class _MailboxPoll:
    def __init__(
        self,
        mailbox_id: int,
        settings: PollSettings,
        now: datetime,
        ours: set[str],
        counts: Counter[str],
    ) -> None:
        self.mailbox_id = mailbox_id
        self.settings = settings
        self.now = now
        self.ours = ours
        self.counts = counts
        self.lock = f"poll-inbox:{mailbox_id}"
        self.holder = lock_holder_id()
        self.lookup = DbTouchLookup()

    def run(self) -> None:
        if not acquire_lock(self.lock, self.holder, now=utcnow()):
            log.info("mailbox %s is being polled by another process; skipped", self.mailbox_id)
            return
        try:
            self._run()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            # Also commits the folders' last poll time: one write for an idle pass.
            release_lock(self.lock, self.holder)

    def _run(self) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is None:
            return
        folders = [self._folder_row(mailbox, name) for name in mailbox_folders(mailbox)]
        db.session.commit()  # new folder rows, if any; otherwise nothing to write
        folder_ids = [f.id for f in folders]
        try:
            client = connect(self._imap_settings(mailbox))
        except (ImapError, UserError) as exc:
            reason = exc.message if isinstance(exc, UserError) else str(exc)
            for folder_id in folder_ids:
                self._failed(folder_id, reason)
            return
        try:
            for folder_id in folder_ids:
                try:
                    self._poll_folder(client, folder_id)
                except ImapConnectionLost as exc:
                    db.session.rollback()
                    self._failed(folder_id, f"{exc}; retried next pass, nothing was lost")
                    return  # the connection is closed: the other folders wait for next pass
                except ImapError as exc:
                    db.session.rollback()
                    self._failed(folder_id, str(exc))
                except Exception as exc:  # a bug must not stop the other mailboxes
                    db.session.rollback()
                    log.exception("mailbox %s: polling failed", self.mailbox_id)
                    self._failed(folder_id, f"internal error: {exc!r}")
        finally:
            _close(client)

    def _imap_settings(self, mailbox: Mailbox) -> ImapSettings:
        return ImapSettings(
            host=mailbox.imap_host,
            port=mailbox.imap_port,
            username=mailbox.username or mailbox.from_email,
            password=mailbox_password(mailbox),
            security=mailbox.imap_security.value,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            ca_file=self.settings.ca_file,
        )

    def _folder_row(self, mailbox: Mailbox, name: str) -> MailboxFolder:
        row = db.session.scalar(
            select(MailboxFolder).where(
                MailboxFolder.mailbox_id == mailbox.id, MailboxFolder.folder == name
            )
        )
        if row is None:
            row = MailboxFolder(mailbox_id=mailbox.id, folder=name, last_uid=0, last_error="")
            db.session.add(row)
            db.session.flush()
        return row

    def _failed(self, folder_id: int, reason: str) -> None:
        row = db.session.get(MailboxFolder, folder_id)
        if row is not None:
            row.last_error = f"{self.now:%Y-%m-%d %H:%M} UTC: {reason}"[:2000]
            db.session.commit()
        self.counts["errors"] += 1
        log.warning("mailbox %s: %s", self.mailbox_id, reason)

    def _first_sync_since(self) -> datetime:
        first_sent = db.session.scalar(
            select(func.min(Touch.sent_at))
            .join(Enrollment, Enrollment.id == Touch.enrollment_id)
            .where(Enrollment.mailbox_id == self.mailbox_id)
        )
        since = self.now - timedelta(days=self.settings.first_sync_days)
        if first_sent is not None:
            since = min(since, first_sent - timedelta(days=1))
        return since

    def _poll_folder(self, client: IMAPClient, folder_id: int) -> None:
        row = db.session.get(MailboxFolder, folder_id)
        assert row is not None
        name = row.folder
        cursor = Cursor(row.uidvalidity, row.last_uid or 0)
        since = self._first_sync_since() if row.uidvalidity is None else None
        db.session.commit()  # no transaction stays open while the server answers
        while True:
            batch = poll_folder(
                client,
                name,
                cursor,
                now=self.now,
                limit=self.settings.batch,
                rescan_days=self.settings.rescan_days,
                since=since,
            )
            since = None
            if batch.messages or batch.cursor != cursor:
                self._store_batch(folder_id, batch)
                renew_lock(self.lock, self.holder)
            cursor = batch.cursor
            if not batch.more:
                break
        row = db.session.get(MailboxFolder, folder_id)
        assert row is not None
        row.last_polled_at = self.now
        if row.last_error:
            row.last_error = ""

    # -- storing --------------------------------------------------------------

    def _store_batch(self, folder_id: int, batch: PollBatch) -> None:
        """Store a batch and its cursor in one transaction; one by one if that fails."""
        counts: Counter[str] = Counter()
        try:
            self._store(folder_id, batch.messages, batch.cursor, counts)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("mailbox %s: storing a batch failed; one by one", self.mailbox_id)
        else:
            self.counts.update(counts)
            return
        for item in batch.messages:
            counts = Counter()
            try:
                self._store(folder_id, [item], item.cursor, counts)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                log.exception("mailbox %s: effects of UID %s failed", self.mailbox_id, item.uid)
                counts = self._store_failed(folder_id, item, exc)
            self.counts.update(counts)
        self._advance(folder_id, batch.cursor)
        db.session.commit()

    def _store_failed(self, folder_id: int, item: FetchedMessage, exc: Exception) -> Counter[str]:
        """Store a message whose effects failed without them; else as unreadable, in triage."""
        counts: Counter[str] = Counter()
        try:
            self._store(folder_id, [item], item.cursor, counts, failure=repr(exc))
            db.session.commit()
            return counts
        except Exception as again:
            db.session.rollback()
            log.exception("mailbox %s: UID %s kept as unreadable", self.mailbox_id, item.uid)
            row = db.session.get(MailboxFolder, folder_id)
            assert row is not None
            store_unreadable(self.mailbox_id, row.folder, item, repr(again), self.now)
            self._advance(folder_id, item.cursor)
            db.session.commit()
            return Counter(fetched=1, unmatched=1, errors=1)

    def _advance(self, folder_id: int, cursor: Cursor) -> None:
        row = db.session.get(MailboxFolder, folder_id)
        assert row is not None
        row.uidvalidity = cursor.uidvalidity
        row.last_uid = max(cursor.last_uid, 0)

    def _store(
        self,
        folder_id: int,
        items: Sequence[FetchedMessage],
        cursor: Cursor,
        counts: Counter[str],
        *,
        failure: str | None = None,
    ) -> None:
        row = db.session.get(MailboxFolder, folder_id)
        assert row is not None
        keys = [item.facts.dedupe_key[:998] for item in items]
        seen = set(
            db.session.scalars(
                select(InboundMessage.message_id).where(
                    InboundMessage.mailbox_id == self.mailbox_id,
                    InboundMessage.message_id.in_(keys),
                )
            )
        )
        fresh = []
        for item, key in zip(items, keys, strict=True):
            if key not in seen:
                seen.add(key)
                fresh.append(item)
        self.lookup.prefetch(item.facts for item in fresh)
        stored = receive_messages(
            self.mailbox_id, row.folder, fresh, lookup=self.lookup, ours=self.ours,
            now=self.now, failure=failure,
        )  # fmt: skip
        for message in stored:
            counts["fetched"] += 1
            category = _category(message)
            if category is not None:
                counts[category] += 1
        self._advance(folder_id, cursor)


def _close(client: IMAPClient) -> None:
    """Log out; a connection that is already broken is gone either way."""
    try:
        client.logout()
    except Exception:
        with suppress(Exception):
            client.shutdown()


def _category(message: InboundMessage) -> str | None:
    """The count a stored message adds to: matched kinds, or unmatched."""
    if message.prospect_id is None:
        return "unmatched"
    if message.kind in REPLY_KINDS:
        return "replies"
    if message.kind in AUTO_KINDS:
        return "auto_replies"
    if message.kind in BOUNCE_KINDS:
        return "bounces"
    return None
