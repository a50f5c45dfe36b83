"""`python -m striate` is the `striate` command."""

import sys

from striate.cli import main

sys.exit(main())
