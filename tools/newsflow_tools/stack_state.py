"""The state file ``newsflow run`` leaves in its data directory (``.data/stack.json``).

It names the servers of the stack that is running, so that ``newsflow status``,
``push``, ``dlq``, ``keys`` and ``reenrich`` find them without flags (see
:mod:`newsflow_tools.settings`). The runner writes it once the stack is up and
removes it on a clean exit; after a crash it stays behind, and the CLI then says
that the stack it names does not answer instead of quietly using another server.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

FILE_NAME: Final = "stack.json"


class StackState(BaseModel):
    """What a running ``newsflow run`` started, and where."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: Literal["running"] = "running"
    pid: int
    started_at: datetime
    redis_url: str
    mongodb_url: str
    gateway_url: str


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def write(path: Path, state: StackState) -> None:
    """Write atomically (temporary file, then rename): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def read(path: Path) -> StackState | None:
    """The recorded stack; None when there is no file or it is not a state file."""
    try:
        return StackState.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def remove(path: Path, pid: int) -> None:
    """Remove the file if it still names the stack of process ``pid`` (a second
    runner may have replaced it since)."""
    state = read(path)
    if state is not None and state.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
