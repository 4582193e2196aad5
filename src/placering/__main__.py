"""``python -m placering`` runs the command line."""

import sys

from placering.cli import main

sys.exit(main())
