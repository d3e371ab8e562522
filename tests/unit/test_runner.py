"""The local supervisor restarts a service that dies, and says so."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools import runner, stack_state
from newsflow_tools.runner import Managed, RunSettings, Supervisor, parse_replicas, run
from newsflow_tools.stack_state import StackState

pytestmark = pytest.mark.tools


def test_parse_replicas() -> None:
    assert parse_replicas("enrichment=2, storage=3") == {"enrichment": 2, "storage": 3}
    assert parse_replicas("") == {}
    for bad in ["gateway=2", "storage", "storage=0", "storage=x", "mystery=1"]:
        with pytest.raises(ValueError, match="bad replica"):
            parse_replicas(bad)


@pytest.mark.timeout(60)
def test_a_dead_service_is_restarted_and_the_restart_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service that crashes (exit 1) straight away, every time. (A configuration
    # error exits 78 and is not restarted: tests/unit/test_polish2_config_exit.py.)
    (tmp_path / "crashing_service.py").write_text("print('crashed'); raise SystemExit(1)\n")
    monkeypatch.setitem(runner.MODULES, "ingest", "crashing_service")
    out = io.StringIO()
    supervisor = Supervisor(out)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    supervisor.add(Managed("ingest-1", "ingest", env, tmp_path / "ingest-1.log"))
    deadline = time.monotonic() + 45
    while "restarted ingest-1" not in out.getvalue() and time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.1)
    supervisor.stop()
    log = out.getvalue()
    assert "[supervisor] ingest-1 exited with code 1; restarting in 1s" in log
    assert "[supervisor] restarted ingest-1 (restart #1)" in log
    assert "crashed" in (tmp_path / "ingest-1.log").read_text()


def test_a_second_run_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    """Two runners would share one embedded Redis directory and one state file."""
    state = StackState(
        pid=os.getppid(),  # a live process that is not this one
        started_at=datetime.now(UTC),
        redis_url="redis://127.0.0.1:6390/0",
        mongodb_url="mongodb://127.0.0.1:27017",
        gateway_url="http://127.0.0.1:8000",
    )
    stack_state.write(stack_state.path_in(tmp_path), state)
    out = io.StringIO()
    assert run(RunSettings(data_dir=tmp_path), out) == 1
    assert f"another newsflow run (pid {state.pid}) is using {tmp_path}" in out.getvalue()
    assert stack_state.read(stack_state.path_in(tmp_path)) == state  # left alone
