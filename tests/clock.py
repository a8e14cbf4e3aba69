"""The one date the test suite lives on, so that no test depends on the day it runs.

Every test database is built with `TEST_TODAY` (the demo's snapshot moment is 00:00 EAT that
day), and the app's periods end on the database's as-of date, the day before. Set
`USALAMA_TEST_TODAY=YYYY-MM-DD` to run the whole suite as if on another day; the suite must pass
on any day the demo accepts. Only `test_app_on_the_real_today` uses the wall clock.
"""

from __future__ import annotations

import datetime as dt
import os

TEST_TODAY_ENV = "USALAMA_TEST_TODAY"
DEFAULT_TEST_TODAY = dt.date(2026, 11, 28)

TEST_TODAY = dt.date.fromisoformat(os.environ.get(TEST_TODAY_ENV) or DEFAULT_TEST_TODAY.isoformat())
# The demo's last events lie just before 00:00 EAT on TEST_TODAY: its as-of date is the day before.
TEST_AS_OF = TEST_TODAY - dt.timedelta(days=1)
# The wall clock for checks of dates "in the future" (the checker, the Data quality page): a few
# days after the demo's snapshot, on whatever day the suite runs (9:00 UTC, 12:00 EAT).
TEST_NOW = dt.datetime.combine(TEST_TODAY + dt.timedelta(days=3), dt.time(9, 0))
TEST_NOW_DATE = TEST_NOW.date()
