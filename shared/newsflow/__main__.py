"""``python -m newsflow``: the same command as the ``newsflow`` script.

The command itself lives in the tools package (``newsflow-tools``), a floor above
this one, and this package never imports it (``tests/unit/test_layers.py``). It is
found the way the ``newsflow`` script finds it: through the ``console_scripts``
entry point that the tools package installs. Where only the ``newsflow`` package is
installed (the service image), there is no command, and this says so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

#: The console script whose entry point this runs.
SCRIPT = "newsflow"

MISSING = (
    "python -m newsflow: the `newsflow` command is in the newsflow-tools package, "
    "which is not installed here. Install it with `pip install -e ./tools` "
    "(`make install` does), or run a service directly, e.g. `python -m newsflow_gateway`."
)


def find_command() -> Callable[..., Any] | None:
    """The ``newsflow`` script's function, or None when the tools are not installed."""
    for entry in entry_points(group="console_scripts", name=SCRIPT):
        try:
            command: Callable[..., Any] = entry.load()
        except ImportError:  # the metadata is there, the package is not (or is broken)
            return None
        return command
    return None


def main(argv: Sequence[str] | None = None) -> int:
    command = find_command()
    if command is None:
        print(MISSING, file=sys.stderr)
        return 2
    sys.argv[0] = SCRIPT
    code = command(list(argv) if argv is not None else None)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
