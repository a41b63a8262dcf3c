"""Ranking movement of target pages: Search Console Pages exports and rank tracker CSVs,
imported dated and repeatedly, and the change in the days after links were placed."""
