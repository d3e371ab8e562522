"""schemathesis against the live OpenAPI: no 5xx, and every response fits the schema.

Runs the phases that fit in about a minute (examples, coverage and a bounded
fuzzing run) with schemathesis's own command line, against the running gateway on
real servers. The live stream never ends by design, so it is excluded here and
tested in test_gateway.py instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


@pytest.mark.timeout(300)
def test_schemathesis_finds_no_5xx_and_no_schema_violation(module_stack: Stack) -> None:
    redis = module_stack.redis()
    redis.xadd(
        "news:ingest",
        {
            "item": orjson.dumps(
                {
                    "title": "Schemathesis seed story",
                    "published_at": "2021-01-07",
                    "offices": ["OSCE Mission to Serbia"],
                    "topics": ["Rule of law"],
                    "content_type": "News",
                }
            )
        },
    )
    redis.close()
    eventually(lambda: module_stack.get("/v1/items").json()["total"] == 1, timeout=30)
    binary = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(binary),
            "run",
            f"{module_stack.gateway}/openapi.json",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--checks",
            CHECKS,
            "--exclude-path",
            "/v1/stream",
            "--seed",
            "1",
            "--suppress-health-check",
            "all",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
