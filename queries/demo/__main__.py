"""`python -m queries.demo`: build the demo database from the command line."""

import sys

from queries.demo import main

if __name__ == "__main__":
    sys.exit(main())
