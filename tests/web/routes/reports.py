"""Reports: the dashboard, the builder and their CSV downloads (reports.index is in core)."""

from __future__ import annotations

from tests.web.routes import MANAGER_PAGE, PAGE, Expect

ROUTES = {
    "reports.builder": PAGE,
    "reports.export": Expect(args={"name": "report_table"}),
}


def build_world(world: dict[str, object]) -> None:
    world["report_table"] = "angle"
    _rank_import(world)


ROUTES.update(
    {
        "reports.rankings": PAGE,
        # No file chosen: the form comes back with its errors.
        "reports.upload_rankings": Expect(method="POST", specialist=400, manager=400, admin=400),
        "reports.delete_rankings": Expect(
            method="POST", specialist=302, manager=302, admin=302, args={"import_id": "rank_import"}
        ),
    }
)


def _rank_import(world: dict[str, object]) -> None:
    from datetime import date

    from crm.extensions import db
    from crm.models import RankImport, RankSource

    record = RankImport(campaign_id=world["campaign_id"], source=RankSource.GSC,
                        as_of=date(2026, 10, 1), filename="Pages.csv")  # fmt: skip
    db.session.add(record)
    db.session.commit()
    world["rank_import"] = record.id


ROUTES.update(
    {
        "reports.digest": MANAGER_PAGE,
        # No fields: the digest is switched off (nothing to choose), back to the page.
        "reports.save_digest": Expect(method="POST", specialist=403, manager=302, admin=302),
    }
)
