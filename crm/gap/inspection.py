"""Inspect an import's files against its campaign: format, encoding and whose export each is.

Every file of an import is inspected when it is added or changed (the result
is kept on its entry for the import page) and again when the import runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crm.gap.column_mappings import peek_header
from crm.gap.exports import ExportError, ExportInfo, OwnerUnknown, inspect_export
from crm.gap.exports.gsc import GscTopLinkingSites
from crm.gap.exports.owners import campaign_site_in_file_name
from crm.gap.reduce import check_owners
from crm.models import Campaign


def inspect_entry(campaign: Campaign, entry: dict[str, Any]) -> ExportInfo:
    """Inspect one file as the user described it and check its owner (ExportError)."""
    described = {
        "display_name": entry["name"],
        "mapping": entry.get("mapping"),
        "format_id": entry.get("format_hint"),
    }
    sites = (campaign.site.domain, *campaign.competitor_domains)
    try:
        info = inspect_export(entry["path"], owner=entry.get("owner"), **described)
    except OwnerUnknown as exc:
        if exc.format_id == GscTopLinkingSites.id:
            # Search Console lists the links of the property it was exported from, and
            # nobody can export a competitor's: unless told otherwise it is our own site.
            owner, source = campaign.site.domain, "search-console"
        elif named := campaign_site_in_file_name(entry["name"], sites):
            owner, source = named, "file-name"
        else:
            raise OwnerUnknown(
                exc.file,
                exc.format_id,
                "cannot tell whose export this is: it has no Target URL column and its "
                "file name names no single site of the campaign",
            ) from None
        info = replace(inspect_export(entry["path"], owner=owner, **described), owner_source=source)
    else:
        # A name read off the start of the file name that is no site of the campaign
        # ("2026-q4-rival.com-refdomains.csv" starts with a valid host name) yields
        # to the one campaign site the name mentions.
        misread = info.owner_source == "file-name" and info.owners[0] not in sites
        if misread and (named := campaign_site_in_file_name(entry["name"], sites)):
            info = replace(info, owners=(named,))
    check_owners([info], campaign.site.domain, campaign.competitor_domains)
    return info


def inspected_entry(campaign: Campaign, entry: dict[str, Any]) -> dict[str, Any]:
    """Return the file entry with what inspection found, or the error it met."""
    entry = {k: v for k, v in entry.items() if k not in ("detected", "error", "header")}
    try:
        info = inspect_entry(campaign, entry)
    except OwnerUnknown as exc:
        # The browser asks in its own words, not the CLI's DOMAIN=PATH.
        entry["error"] = f"{exc.file}: {exc.reason}: choose whose export it is under Owner"
        return entry
    except ExportError as exc:
        entry["error"] = str(exc)
        entry["header"] = peek_header(entry["path"])
        return entry
    entry["detected"] = {
        "format": info.format_id,
        "label": info.label,
        "encoding": info.encoding,
        "delimiter": "TAB" if info.delimiter == "\t" else info.delimiter,
        "owners": list(info.owners),
        "owner_source": info.owner_source,
        "multi_site": info.multi_site,
        "rows": info.rows_estimate,
        "member": info.member,
        "size": info.size,
    }
    entry["error"] = None
    if info.format_id == "generic":
        entry["header"] = list(info.header)
    return entry
