"""The gap: table, bulk actions, export, assets, settings, import pages, prospect panel."""

from __future__ import annotations

import io
from typing import Any

from tests.web.routes import MANAGER_PAGE, PAGE, Expect

BUILD_ORDER = 10

_POST = Expect(method="POST", specialist=302, manager=302, admin=302)

ROUTES = {
    "gap.table": PAGE,
    "gap.export_csv": PAGE,
    "gap.assets": PAGE,
    "gap.add": PAGE,
    "gap.settings": MANAGER_PAGE,
    # No selection: back to the table with a message.
    "gap.bulk": _POST,
    "gap.import_new": PAGE,
    "gap.import_show": Expect(args={"import_id": "gap_import_id"}),
    "gap.import_progress": Expect(args={"import_id": "gap_import_id"}),
    "gap.change_show": Expect(args={"change_id": "bulk_change_id"}),
    "gap.change_progress": Expect(args={"change_id": "bulk_change_id"}),
    # The world's change is running: back to its page with a message.
    "gap.change_again": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"change_id": "bulk_change_id"}
    ),
    "gap.import_add": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"import_id": "gap_import_id"}
    ),
    "gap.import_file": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"import_id": "gap_import_id", "index": "gap_file_index"},
    ),
    "gap.import_remove_file": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"import_id": "gap_import_id", "index": "gap_file_index"},
    ),
    # The matrix's import is pending: discarding it goes back to the upload page.
    "gap.import_discard": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"import_id": "gap_import_id"}
    ),
    "gap.import_run": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"import_id": "gap_import_id"}
    ),
    "gap.import_retry": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"import_id": "gap_import_id"}
    ),
    "gap.prospect_update": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
    # No action chosen: back to the prospect page with a message.
    "gap.prospect_visibility": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.extensions import db
    from crm.gap.sample_exports import SampleLink, semrush_backlinks_bytes
    from crm.gap.service import create_import, save_uploads
    from crm.models import BulkChange

    export = semrush_backlinks_bytes(
        [SampleLink("https://blog.example.org/tools/", "https://rival-a.com/guide", authority=40)]
    )
    gap_import = create_import(world["campaign"])
    save_uploads(gap_import, [("rival-a-backlinks.csv", io.BytesIO(export))])
    db.session.commit()
    world["gap_import_id"] = gap_import.id
    change = BulkChange(campaign_id=world["campaign"].id, action="qualify", total=5000, done=2000)
    db.session.add(change)
    db.session.commit()
    world["bulk_change_id"] = change.id
    world["gap_file_index"] = 0
