"""A worker started on a Redis that answers with an error that waiting cannot cure
(a database it does not have, a sentinel URL pointing at a plain Redis) exits at once,
non-zero, naming the problem in one line; it neither hangs nor ignores SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def start_ingest(redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "NEWSFLOW_METRICS_PORT": "0"}
    # The timeout only guards the test run against the old hang; it asserts nothing.
    return subprocess.run(
        [sys.executable, "-m", "newsflow_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://{host}/99999", "DB index is out of range"),
        ("redis+sentinel://{host}/mymaster/0", "unknown command `SENTINEL`"),
    ],
)
def test_a_redis_that_can_never_serve_the_worker_is_a_fatal_error(
    redis_url: str, url: str, problem: str
) -> None:
    host = redis_url.split("//", 1)[1].split("/", 1)[0]
    done = start_ingest(url.format(host=host))
    assert done.returncode == 1
    fatal = [line for line in done.stderr.splitlines() if "exiting with failure" in line]
    assert len(fatal) == 1
    assert f"ingest: cannot use Redis: {problem}" in fatal[0]
    assert "Traceback" not in done.stderr
    # The retention trimmer waits for Redis to answer: no pass, so no failed pass, first.
    assert "trim pass failed" not in done.stderr


def test_sigterm_stops_a_worker_waiting_for_a_redis_not_there_yet() -> None:
    from newsflow_tools.embedded import free_port

    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NEWSFLOW_METRICS_PORT": "0",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "newsflow_ingest"], env=env, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        before: list[str] = []
        for line in process.stderr:  # refused: it waits, as Redis may come later
            if "waiting for Redis" in line:
                break
            before.append(line)
        process.terminate()
        assert process.wait(timeout=60) == 0
        rest = process.stderr.read()
    # Only the worker says Redis is away: the trimmer tries no pass before it connects.
    assert not [line for line in [*before, rest] if "trim pass failed" in line]
