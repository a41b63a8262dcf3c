"""Reports: DESIGN §7's definitions counted once in SQL, shaped by pure code.

How a number is made, from the data to the page:

- facts.py       the definitions as one SQL subquery: a row per contacted enrollment
                 (or per sent touch, for the step breakdown) and per link won without
                 email, with the breakdown keys and 0/1 flags (words: definitions.py)
- breakdown.py   GROUP BY any one or two breakdowns (dimensions.py), plus a window
                 query for median/mean days to placement
- shaping.py     pure: rates with Wilson 95% intervals, small cells, labels, JSON/CSV
- report.py      the two above together: what `crm report`, the pages and the API call
- funnel.py, pipeline.py + forecast.py, health.py, activity.py: the dashboard's other
                 panels; dashboard.py gathers them (stored.py: facts computed once)
- charts.py      pure: each chart's data and the table beside it
- rankings/      ranking exports of target pages and the movement after links
- digest.py, digest_service.py: the weekly email

In short: contacted = enrollments with a touch sent; reply rate = contacted with a
human reply ÷ contacted; placement rate = contacted prospects with a won link ÷
contacted prospects (a link won without email counts as placed, outside the rate).
"""
