"""`crm report` exactly as CONTRACT says: --by one or two breakdowns, --from/--to, formats."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from flask import Flask

from tests.reports.dataset import BY_ANGLE, BY_STEP, IN_RANGE, build_dataset, counts_of


def crm(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["report", *args])


@pytest.fixture
def data(db: Any) -> Any:
    return build_dataset()


def test_json_rows_by_angle_and_tier_carry_both_keys(app: Flask, data: Any) -> None:
    result = crm(app, "Reports", "--by", "angle,tier", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["group"], r["angle"], r["tier"]) for r in rows] == [
        ("broken link × tier 2", "broken link", 2),
        ("resource replacement × tier 1", "resource replacement", 1),
    ]
    assert counts_of(rows[1]) == BY_ANGLE["resource replacement"]
    for field in ("reply_rate", "positive_reply_rate", "placement_rate", "reply_rate_ci"):
        assert field in rows[1]


def test_date_range_and_step(app: Flask, data: Any) -> None:
    result = crm(app, "Reports", "--by", "step", "--format", "json")
    assert {r["step"]: counts_of(r) for r in json.loads(result.stdout)} == BY_STEP
    ranged = crm(app, str(data.campaign.id), "--by", "tier", "--from", "2026-10-12",
                 "--to", "2026-10-31", "--format", "json")  # fmt: skip
    rows = json.loads(ranged.stdout)
    assert sum(r["contacted"] for r in rows) == IN_RANGE[0]
    assert sum(r["placed"] for r in rows) == IN_RANGE[4]


def test_table_and_csv_show_the_same_numbers(app: Flask, data: Any) -> None:
    table = crm(app, "Reports", "--by", "angle")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].startswith("Angle")
    assert "resource replacement" in lines[2] and "75.0%" in lines[2]
    assert "4 (3 prospects)" in lines[2]
    sheet = list(
        csv.DictReader(io.StringIO(crm(app, "Reports", "--by", "angle", "--format", "csv").stdout))
    )
    rr = next(r for r in sheet if r["angle"] == "resource replacement")
    assert (rr["contacted"], rr["replied"], rr["reply_rate"]) == ("4", "3", "0.75")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "colour"], "Error: --by: unknown breakdown 'colour'"),
        (["--by", "angle", "--from", "2026-10-31", "--to", "2026-10-01"],
         "Error: --to: 2026-10-01 is before the start 2026-10-31"),
        (["--by", "angle", "--from", "yesterday"], "Error: --from: 'yesterday' is not a date"),
        (["--by", "angle", "--specialist", "nobody@x.example"],
         "Error: --specialist: no user with the email 'nobody@x.example'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_the_parameter(
    app: Flask, data: Any, args: list[str], message: str
) -> None:
    result = crm(app, "Reports", *args)
    assert result.exit_code != 0
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_unknown_campaign_is_one_line(app: Flask, db: Any) -> None:
    result = crm(app, "Nope", "--by", "angle", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no campaign named 'Nope'"


def test_an_empty_campaign_says_what_to_do(app: Flask, data: Any) -> None:
    from tests.factories import CampaignFactory

    CampaignFactory(name="Empty")
    from crm.extensions import db

    db.session.commit()
    result = crm(app, "Empty", "--by", "angle")
    assert result.exit_code == 0
    assert "enroll prospects" in result.stdout
    assert json.loads(crm(app, "Empty", "--by", "angle", "--format", "json").stdout) == []
