"""`python -m dashboard.briefing`: see `dashboard.briefing.cli`."""

import sys

from dashboard.briefing.cli import main

sys.exit(main())
