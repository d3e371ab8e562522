"""``python -m newsflow_tools``: the same as the ``newsflow`` command."""

import sys

from newsflow_tools.cli import main

sys.exit(main())
