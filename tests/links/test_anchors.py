"""The anchor-type suggestion, table-driven."""

from __future__ import annotations

import pytest

from crm.links.anchors import suggest_anchor_type
from crm.models import AnchorType

KEYWORDS = ["kanban board", "project management software"]


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("", AnchorType.IMAGE),
        ("   ", AnchorType.IMAGE),
        ("https://www.acme.co.uk/guides/kanban", AnchorType.NAKED),
        ("acme.co.uk", AnchorType.NAKED),
        ("www.acme.co.uk", AnchorType.NAKED),
        ("Acme", AnchorType.BRANDED),
        ("Acme Boards", AnchorType.BRANDED),  # the brand name
        ("the Acme kanban board", AnchorType.BRANDED),  # brand wins over keywords
        ("ACME", AnchorType.BRANDED),  # the domain's label
        ("kanban board", AnchorType.EXACT),
        ("Kanban Board!", AnchorType.EXACT),  # case and punctuation aside
        ("project  management software", AnchorType.EXACT),
        ("best kanban board for teams", AnchorType.PARTIAL),
        ("kanban boards", AnchorType.PARTIAL),  # shares the topical word
        ("software for project management", AnchorType.PARTIAL),
        ("click here", AnchorType.GENERIC),
        ("Read more", AnchorType.GENERIC),
        ("this article", AnchorType.GENERIC),
        ("a lovely afternoon", AnchorType.GENERIC),
        ("https://other.example/page", AnchorType.NAKED),
    ],
)
def test_anchor_type_is_suggested_from_brand_domain_and_keywords(
    anchor: str, expected: AnchorType
) -> None:
    got = suggest_anchor_type(
        anchor, brand="Acme Boards", site_domain="acme.co.uk", keywords=KEYWORDS
    )
    assert got.anchor_type == expected, got.reason
    assert got.reason


def test_an_image_link_is_image_whatever_its_alt_text() -> None:
    got = suggest_anchor_type(
        "kanban board", brand="", site_domain="acme.co.uk", keywords=KEYWORDS, image=True
    )
    assert got.anchor_type == AnchorType.IMAGE


def test_accents_fold_so_a_keyword_matches_either_spelling() -> None:
    got = suggest_anchor_type(
        "Gestión de proyectos", brand="", site_domain="acme.es", keywords=["gestion de proyectos"]
    )
    assert got.anchor_type == AnchorType.EXACT


def test_without_keywords_a_topical_anchor_is_generic() -> None:
    got = suggest_anchor_type("kanban board", brand="", site_domain="acme.co.uk", keywords=[])
    assert got.anchor_type == AnchorType.GENERIC
