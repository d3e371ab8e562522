"""A worker that cannot start because of its configuration exits 78 (EX_CONFIG), and
``newsflow run`` does not restart it: the same configuration would fail the same way.

Before, both a bad setting and a missing topic model exited 1, like a crash, and the
runner restarted the service forever with back-off, burying the one line that said
what was wrong under "restarting in 30s".
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.runtime.service import EX_CONFIG
from newsflow_tools import runner
from newsflow_tools.embedded import free_port
from newsflow_tools.runner import Managed, Supervisor

pytestmark = pytest.mark.tools


def closed_port_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def test_ex_config_is_the_sysexits_code() -> None:
    assert EX_CONFIG == 78
    if hasattr(os, "EX_CONFIG"):
        assert EX_CONFIG == os.EX_CONFIG


@pytest.mark.timeout(90)
def test_a_missing_topic_model_exits_78_naming_the_file() -> None:
    env = {
        **os.environ,
        "NEWSFLOW_TOPIC_MODEL": "true",
        "NEWSFLOW_TOPIC_MODEL_PATH": "/nonexistent",
        "REDIS_URL": closed_port_redis(),
        "NEWSFLOW_METRICS_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsflow_enrichment"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EX_CONFIG
    assert "Cannot start with EnrichmentSettings: topic model /nonexistent" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.timeout(90)
def test_an_invalid_setting_exits_78_naming_the_variable() -> None:
    env = {**os.environ, "REDIS_URL": "nonsense://", "NEWSFLOW_METRICS_PORT": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "newsflow_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EX_CONFIG
    assert "Invalid configuration for IngestSettings:" in done.stderr
    assert "REDIS_URL must start with redis://" in done.stderr


def watch(supervisor: Supervisor, until: str, out: io.StringIO, seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while until not in out.getvalue() and time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.1)


@pytest.mark.timeout(90)
def test_the_runner_does_not_restart_a_service_with_a_bad_configuration(tmp_path: Path) -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    env = {
        **os.environ,
        "NEWSFLOW_TOPIC_MODEL": "true",
        "NEWSFLOW_TOPIC_MODEL_PATH": "/nonexistent",
        "REDIS_URL": closed_port_redis(),
        "NEWSFLOW_METRICS_PORT": "0",
    }
    log = tmp_path / "enrichment-1.log"
    log.write_text("an older run's last line\n")
    supervisor.add(Managed("enrichment-1", "enrichment", env, log))
    watch(supervisor, "not restarting", out)
    for _ in range(30):  # long past the first back-off of 1 s
        supervisor.check()
        time.sleep(0.1)
    supervisor.stop()
    text = out.getvalue()
    assert "restart" not in text.replace("not restarting", "")
    assert text.count("enrichment-1 exited with code 78") == 1
    assert "configuration" in text
    # its own last error lines, once, and nothing of an older run
    assert text.count("Cannot start with EnrichmentSettings: topic model /nonexistent") == 1
    assert "an older run" not in text
    assert [proc.name for proc in supervisor.config_failed] == ["enrichment-1"]


@pytest.mark.timeout(90)
def test_a_crash_is_still_restarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 is not a configuration error: back-off and restart, as before."""
    (tmp_path / "p2_crashing_service.py").write_text("raise SystemExit(1)\n")
    monkeypatch.setitem(runner.MODULES, "ingest", "p2_crashing_service")
    out = io.StringIO()
    supervisor = Supervisor(out)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    supervisor.add(Managed("ingest-1", "ingest", env, tmp_path / "ingest-1.log"))
    watch(supervisor, "restarted ingest-1", out)
    supervisor.stop()
    assert "[supervisor] ingest-1 exited with code 1; restarting in 1s" in out.getvalue()
    assert "[supervisor] restarted ingest-1 (restart #1)" in out.getvalue()
    assert supervisor.config_failed == []


@pytest.mark.timeout(120)
def test_newsflow_run_stops_the_stack_with_exit_78(tmp_path: Path) -> None:
    """The whole runner: a service that cannot start stops the stack, non-zero."""
    env = {
        **os.environ,
        "NEWSFLOW_TOPIC_MODEL": "true",
        "NEWSFLOW_TOPIC_MODEL_PATH": "/nonexistent",
        "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        "NEWSFLOW_GATEWAY_PORT": str(free_port()),
        "NEWSFLOW_REDIS_PORT": str(free_port()),
        "NEWSFLOW_MONGODB_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsflow_tools.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == EX_CONFIG, done.stdout + done.stderr
    assert "enrichment-1 exited with code 78" in done.stdout
    assert "Cannot start with EnrichmentSettings: topic model /nonexistent" in done.stdout
    assert "restarted" not in done.stdout
    assert done.stdout.rstrip().endswith("stopped.")
