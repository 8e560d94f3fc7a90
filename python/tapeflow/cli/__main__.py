"""``python -m tapeflow.cli``."""

import sys

from tapeflow.cli import main

sys.exit(main())
