"""Contacts of prospects: add, change, and import from CSV (services: flush only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func, select

from crm.core.errors import UserError
from crm.core.storable import NUL_IN_FILE
from crm.core.users import normalise_login_email
from crm.extensions import db
from crm.models import Campaign, Contact, Prospect
from crm.outreach.contact_columns import resolve_mapping
from crm.outreach.windows import parse_timezone

MAX_IMPORT_ROWS = 100_000
# A contacts file of MAX_IMPORT_ROWS real rows is about 10 MB.
MAX_IMPORT_BYTES = 16 * 2**20


@dataclass
class ContactFields:
    email: str
    first_name: str = ""
    last_name: str = ""
    role: str = ""
    timezone: str = ""


def clean_contact_fields(f: ContactFields) -> ContactFields:
    """Validate an address (syntax only) and a timezone; raise UserError naming the field."""
    email = normalise_login_email(f.email)
    tz = f.timezone.strip()
    if tz:
        try:
            parse_timezone(tz)
        except ValueError as exc:
            raise UserError(str(exc), field="timezone") from None
    return ContactFields(
        email=email,
        first_name=f.first_name.strip()[:80],
        last_name=f.last_name.strip()[:80],
        role=f.role.strip()[:120],
        timezone=tz,
    )


def find_contacts(campaign: Campaign, emails: Iterable[str]) -> list[Contact]:
    """Return the campaign's contacts with these addresses (UserError naming one not there)."""
    found: list[Contact] = []
    for raw in emails:
        email = raw.strip().lower()
        rows = db.session.scalars(
            select(Contact)
            .join(Prospect, Prospect.id == Contact.prospect_id)
            .where(Prospect.campaign_id == campaign.id, func.lower(Contact.email) == email)
            .order_by(Contact.id)
        ).all()
        if not rows:
            raise UserError(
                f"no contact {raw.strip()} in campaign {campaign.name}", field="contact"
            )
        found += [c for c in rows if c not in found]
    return found


def add_contact(prospect: Prospect, f: ContactFields, *, source: str = "manual") -> Contact:
    """Add a contact to a prospect, or update the one with the same address."""
    clean = clean_contact_fields(f)
    contact = db.session.scalar(
        select(Contact).where(Contact.prospect_id == prospect.id, Contact.email == clean.email)
    )
    if contact is None:
        contact = Contact(prospect=prospect, email=clean.email, source=source)
        db.session.add(contact)
    update_contact(contact, clean)
    db.session.flush()
    return contact


def update_contact(contact: Contact, f: ContactFields) -> None:
    clean = clean_contact_fields(f)
    if clean.email != contact.email:
        clash = db.session.scalar(
            select(Contact.id).where(
                Contact.prospect_id == contact.prospect_id, Contact.email == clean.email
            )
        )
        if clash is not None:
            raise UserError(f"{clean.email} is already a contact of this prospect", field="email")
    contact.email = clean.email
    contact.first_name = clean.first_name
    contact.last_name = clean.last_name
    contact.role = clean.role
    contact.timezone = clean.timezone


@dataclass
class ContactImportResult:
    added: int = 0
    updated: int = 0
    new_prospects: list[str] = field(default_factory=list)


def read_bounded(stream: IO[bytes], name: str) -> bytes:
    """Read an upload or file up to MAX_IMPORT_BYTES (UserError past it)."""
    data = stream.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise UserError(f"{name}: larger than {MAX_IMPORT_BYTES // 2**20} MiB; split the file")
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{name}, line {line}: not UTF-8 text ({exc.reason})") from None
    if (at := text.find("\x00")) >= 0:  # no text holds one; PostgreSQL cannot store it
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        raise UserError(f"{name}, line {line}, character {column}: {NUL_IN_FILE}")
    return text


def _reader(data: bytes, name: str) -> tuple[Any, list[str]]:
    text = _decode(data, name)
    if not text.strip():
        raise UserError(f"{name}: the file is empty")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UserError(f"{name}: the file is empty") from None
    except csv.Error as exc:
        raise UserError(f"{name}, line 1: broken CSV ({exc})") from None
    return reader, header


def contacts_csv_header(data: bytes, name: str) -> list[str]:
    """Return the header of a contacts CSV (UserError when it cannot be read)."""
    return _reader(data, name)[1]


def import_contacts_csv(
    campaign: Campaign, data: bytes, name: str, mapping: Mapping[str, str] | None = None
) -> ContactImportResult:
    """Import contacts from CSV; every row is checked before anything is written.

    `mapping` is our field -> the file's column header, over the recognised headers;
    without a domain column a contact's prospect is its address's domain.
    """
    from crm.core.domains import DomainError, registrable_domain

    reader, header = _reader(data, name)
    index = resolve_mapping(header, mapping, name)
    rows: list[tuple[str, ContactFields]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise UserError(f"{name}: more than {MAX_IMPORT_ROWS} rows; split the file")

            def cell(col: str, row: list[str] = row) -> str:
                i = index.get(col)
                return row[i] if i is not None and i < len(row) else ""

            def where(col: str, line: int = line) -> str:
                return f"{name}, line {line}, column {header[index[col]] or col}"

            fields = ContactFields(
                cell("email"), cell("first_name"), cell("last_name"), cell("role"), cell("timezone")
            )
            try:
                clean = clean_contact_fields(fields)
            except UserError as exc:
                col = exc.field or "email"
                raise UserError(f"{where(col)}: {exc.message}", field=col) from None
            source_col = "domain" if "domain" in index else "email"
            raw_domain = cell("domain") if source_col == "domain" else clean.email.split("@")[-1]
            try:
                domain = registrable_domain(raw_domain)
            except DomainError as exc:
                raise UserError(f"{where(source_col)}: {exc}", field=source_col) from None
            rows.append((domain, clean))
    except csv.Error as exc:
        raise UserError(f"{name}, line {reader.line_num}: broken CSV ({exc})") from None

    result = ContactImportResult()
    prospects = {
        p.domain: p
        for p in db.session.scalars(select(Prospect).where(Prospect.campaign_id == campaign.id))
    }
    for domain, fields in rows:
        prospect = prospects.get(domain)
        if prospect is None:
            prospect = Prospect(campaign=campaign, domain=domain, source="contacts import")
            db.session.add(prospect)
            db.session.flush()
            prospects[domain] = prospect
            result.new_prospects.append(domain)
        existing = db.session.scalar(
            select(Contact.id).where(
                Contact.prospect_id == prospect.id, Contact.email == fields.email
            )
        )
        add_contact(prospect, fields, source=f"import {name}"[:120])
        if existing is None:
            result.added += 1
        else:
            result.updated += 1
    return result
