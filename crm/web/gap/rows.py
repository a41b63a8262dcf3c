"""The rows of the gap table, rendered in Python.

Rendered by Jinja, 50 rows of 13 cells cost about 5 ms of CPU per page (an
escape and a Markup object per cell); one format string per row costs a
third of that, and the table is the page people reload all day. Every text a
user or an export controls goes through `escape`; numbers are formatted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from crm.core.wording import thousands
from crm.models.prospect import CATEGORY_BITS, categories_of

_FOLLOW = {True: "dofollow", False: "nofollow", None: "—"}
_CATEGORIES = {bits: ", ".join(categories_of(bits)) for bits in range(1 << len(CATEGORY_BITS))}


def _target(row: Any, targets: Mapping[int, Any]) -> str:
    page = targets.get(row.target_page_id) if row.target_page_id else None
    if page is None:
        return "—"
    text = str(escape(page.title or page.url))
    return text if row.target_confirmed else f'{text} <span class="muted">(suggested)</span>'


def _status(row: Any, members: Mapping[int, Any]) -> str:
    text = row.status.label
    if row.assigned_to_id:
        who = members.get(row.assigned_to_id)
        name = escape(who.display_name) if who is not None else "a former member"
        text += f' <small class="muted">· {name}</small>'
    return text


def render_rows(
    rows: Iterable[Any],
    *,
    prospect_base: str,
    link_types: Mapping[str, str],
    targets: Mapping[int, Any],
    members: Mapping[int, Any],
    rule_labels: Mapping[str, str] | None = None,
) -> Markup:
    """Return the <tr> elements of the gap table; `rule_labels` adds the "hidden because" cell."""
    out = []
    for r in rows:
        domain = escape(r.domain)
        badges = ""
        if r.broken_link:
            badges += (' <span class="badge warn" title="a competitor\'s link there is lost or '
                       'broken">broken link</span>')  # fmt: skip
        if r.source != "import":
            badges += f' <span class="badge" title="source">{escape(r.source)}</span>'
        if r.links_to_us:
            badges += ' <span class="badge ok">links to us</span>'
        link_type = link_types.get(r.link_type, "—") if r.link_type else "—"
        if r.link_type_manual:
            link_type += ' <small class="muted">(by hand)</small>'
        hidden = ""
        if rule_labels is not None:
            if r.excluded_by:
                label = escape(rule_labels.get(r.excluded_by, r.excluded_by))
                note = escape(r.excluded_note)
                hidden = (f'<td><span class="badge warn">{label}</span> '
                          f'<small class="hide-reason">{note}</small></td>')  # fmt: skip
            else:
                hidden = "<td></td>"
        authority = "—" if r.authority is None else f"{r.authority:.1f}"  # one decimal on every row
        angle = escape((r.angle or "—").replace("-", " "))
        hidden_row = ' class="hidden-row"' if r.excluded_by else ""
        out.append(
            f"<tr{hidden_row}>"
            f'<td><input type="checkbox" name="prospect_id" value="{r.id}" form="bulk" '
            f'aria-label="select {domain}"></td>'
            f'<td><a href="{prospect_base}{r.id}">{domain}</a>{badges}</td>'
            f"<td>{_CATEGORIES.get(r.category_bits, '')}</td>"
            f'<td class="num">{r.tier or "—"}</td>'
            f'<td class="num" title="{escape(", ".join(r.competitors or []))}">{r.overlap}</td>'
            f'<td class="num">{authority}</td><td class="num">{thousands(r.traffic)}</td>'
            f"<td>{_FOLLOW.get(r.dofollow, '—')}</td><td>{link_type}</td>"
            f'<td class="num">{r.score:.2f}</td><td>{_status(r, members)}</td>'
            f"<td><small>{_target(r, targets)}<br>{angle}</small></td>{hidden}</tr>\n"
        )
    return Markup("".join(out))
