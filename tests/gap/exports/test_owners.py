"""Whose export a file is, from its name: the tools' patterns and the campaign's sites."""

from __future__ import annotations

import pytest

from crm.gap.exports.owners import campaign_site_in_file_name, site_from_file_name

SITES = ("our-site.com", "rival-a.com", "rival-b.co.uk", "rival-c.com", "c.com")


@pytest.mark.parametrize(
    ("name", "site"),
    [
        ("v2-rd800000-rival-c.com-ahrefs-refdomains.csv", "rival-c.com"),
        ("2026-Q4 rival-c.com refdomains.csv", "rival-c.com"),
        ("RIVAL-B.CO.UK_backlinks.CSV", "rival-b.co.uk"),
        ("rival-c.com.csv", "rival-c.com"),
        ("https___www.rival-a.com_-Links-2026-12-01.zip", "rival-a.com"),
        ("exports/q4/our-site.com backlinks.csv.gz", "our-site.com"),
        ("c.com_backlinks.csv", "c.com"),
        # "-" separates words in file names more often than it joins a longer domain.
        ("q4-rival-a.com-links.csv", "rival-a.com"),
    ],
)
def test_a_file_name_that_mentions_one_campaign_site_is_that_sites_export(
    name: str, site: str
) -> None:
    assert campaign_site_in_file_name(name, SITES) == site


@pytest.mark.parametrize(
    "name",
    [
        "refdomains.csv",
        "rival-c.com.au-backlinks.csv",  # another domain that starts like a campaign site
        "rival-a.com vs rival-c.com.csv",  # two sites: the name does not say which
        "rival-b.co.uk.evil.csv",
    ],
)
def test_a_file_name_that_names_no_single_campaign_site_says_nothing(name: str) -> None:
    assert campaign_site_in_file_name(name, SITES) is None


def test_a_site_inside_another_site_of_the_name_is_not_mentioned() -> None:
    # c.com sits inside rival-c.com: the name is rival-c.com's, not ambiguous.
    assert campaign_site_in_file_name("rival-c.com-backlinks.csv", SITES) == "rival-c.com"


def test_a_tools_file_name_gives_its_leading_domain_whatever_the_campaign() -> None:
    assert site_from_file_name("rival.com-refdomains-subdomains_2026-11-02.csv") == "rival.com"
    # A valid host name leads this one: it is read as the owner, and the import,
    # which knows the campaign, looks further (crm.gap.inspection).
    assert site_from_file_name("v2-rd800000-rival-c.com-ahrefs-refdomains.csv") == (
        "v2-rd800000-rival-c.com"
    )
