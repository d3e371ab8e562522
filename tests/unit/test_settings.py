"""Settings fail at start-up with a clear message, and never echo secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from newsflow.settings import WorkerSettings


def test_bad_values_fail_at_start_up_naming_the_variable() -> None:
    env = {**os.environ, "REDIS_URL": "http://:s3cretpass@redis:6379", "NEWSFLOW_BATCH_SIZE": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "newsflow_storage"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78  # EX_CONFIG: a supervisor does not restart it
    assert "Invalid configuration for StorageSettings" in result.stderr
    assert "REDIS_URL must start with redis://" in result.stderr
    assert "batch_size" in result.stderr
    assert "s3cretpass" not in result.stderr + result.stdout


def test_replicas_get_distinct_default_consumer_names() -> None:
    assert WorkerSettings().consumer_name.endswith(f"-{os.getpid()}")


def test_mongodb_url_scheme_is_checked() -> None:
    with pytest.raises(ValidationError, match="MONGODB_URL must start with"):
        WorkerSettings(mongodb_url="postgres://x")
