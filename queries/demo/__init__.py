"""The one deterministic seeder: creates the contract schema and fills it with synthetic data.

Usage::

    python -m queries.demo --url sqlite:///data/demo.sqlite [--seed 42] [--incidents 200000]
        [--today YYYY-MM-DD]

or, from Python, `build_demo(url, ...)` and `ensure_demo_database(path)`.

Layout: `world` holds what every generator shares (calendar, rollout, geography, random
streams); `edge_cases` the rows planted on purpose; `associations`, `incidents`, `training` and
`rehab` generate one stream's tables each; `writer` stores column arrays; `build` runs the
generators in order; `cli` is the command line.

Determinism: every row depends only on (seed, today, incidents). Each table draws from its own
random stream, `SeedSequence(seed, spawn_key=(stream, chunk))`, so the same arguments give the
same rows on SQLite and PostgreSQL, and changing one table's generator leaves the others alone.
Incidents are generated in blocks of `CHUNK_ROWS` rows, block k from its own stream, so any
size (10M rows and more) streams through memory one block at a time.

The data are a snapshot taken at 00:00 EAT on `today`: every event lies before it, from
`data_start(today)` on (the earlier of 1 June 2024 and two years before today, so the pilot
counties' first programme months have a year-earlier period to compare with). Only incidents
scale with `incidents`; the other tables have their real-world sizes (about 860 RAs, ~100 rehab
centres, a few hundred security firms, a few thousand referrals).

Realism: real counties (2019 census) and wards; pilot counties Nairobi, Nakuru and Mombasa start
on 2025-06-08, then waves (`WAVES`) while they lie before today; `NOT_ONBOARDED` never start.
Before a county starts, incidents arrive sparsely through police stations, chiefs' offices and
the hotline; after it, reporting ramps up over eight weeks and the Hatua App takes a growing
share. Incidents follow a weekly rhythm (Friday and Saturday nights), a December peak and the
time of day; their status funnel depends on age (recent incidents are more often open).

Deliberate edge cases (their identities are the constants of `edge_cases`, re-exported here):
- `NO_ACTIVITY_COUNTY` (Lamu, onboarded in the first wave) has no incidents, forums, trainings,
  submitted monthly reports or referrals from the first day of the latest complete month to
  the snapshot (the expected monthly report rows exist, unsubmitted).
- `SMALL_REFERRAL_CELLS`: counties given exactly 1-4 rehab referrals in a month (months counted
  back from today's month: 1 = the latest complete month), to exercise small-cell suppression.
- `MIDNIGHT_INCIDENT_TIMES`: incidents reported seconds and minutes either side of midnight EAT
  (21:00 UTC), e.g. exactly 2025-06-30 20:59:59 and 21:00:00 UTC; those before the snapshot
  are planted, in the pilot counties.
- `PLANTED_INVALID_VALUES`: exactly this many rows hold values outside the contract's
  enumerations (e.g. incident category 'cattle_rustling', channel 'sms'); every other row of
  every enumerated column holds an allowed value.
- `OUT_OF_KENYA_COORDINATES`: incidents whose coordinates lie outside Kenya (London, 0/0, a
  longitude typed 100 degrees too far east).
- Late monthly reports: about one submitted report in seven arrives after the 10th of the
  following month; some never arrive.
"""

from queries.demo.build import (
    DEFAULT_INCIDENTS,
    DEFAULT_SEED,
    MAX_INCIDENTS,
    MAX_TODAY,
    MIN_INCIDENTS,
    MIN_TODAY,
    DemoBuildError,
    Progress,
    build_demo,
    ensure_demo_database,
)
from queries.demo.cli import main
from queries.demo.edge_cases import (
    MIDNIGHT_INCIDENT_TIMES,
    NO_ACTIVITY_COUNTY,
    OUT_OF_KENYA_COORDINATES,
    PLANTED_INVALID_VALUES,
    SMALL_REFERRAL_CELLS,
)
from queries.demo.incidents import CHUNK_ROWS
from queries.demo.training import FINANCIAL_YEARS
from queries.demo.world import (
    EARLIEST_DATA_START,
    EAT,
    NOT_ONBOARDED,
    PILOT_COUNTIES,
    PILOT_START,
    WAVES,
    data_start,
    programme_starts,
    snapshot_utc,
)

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_INCIDENTS",
    "DEFAULT_SEED",
    "EARLIEST_DATA_START",
    "EAT",
    "FINANCIAL_YEARS",
    "MAX_INCIDENTS",
    "MAX_TODAY",
    "MIDNIGHT_INCIDENT_TIMES",
    "MIN_INCIDENTS",
    "MIN_TODAY",
    "NOT_ONBOARDED",
    "NO_ACTIVITY_COUNTY",
    "OUT_OF_KENYA_COORDINATES",
    "PILOT_COUNTIES",
    "PILOT_START",
    "PLANTED_INVALID_VALUES",
    "SMALL_REFERRAL_CELLS",
    "WAVES",
    "DemoBuildError",
    "Progress",
    "build_demo",
    "data_start",
    "ensure_demo_database",
    "main",
    "programme_starts",
    "snapshot_utc",
]
