"""`python -m queries.indicators`: the indicators command (see `queries.indicators.cli`)."""

import sys

from queries.indicators.cli import main

sys.exit(main())
