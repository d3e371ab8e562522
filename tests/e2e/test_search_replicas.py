"""Two gateway replicas, each with its own search index, serve the same answers, on the
real sample newsroom; and so does a replica whose index was rebuilt from MongoDB.

Relevance scores are not compared: BM25 statistics count replaced versions until each
replica merges its segments on its own schedule (README, "Search index").
"""

from __future__ import annotations

import shutil
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_pipeline import push_sample
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

QUERIES: list[dict[str, Any]] = [
    {"limit": 100},
    {"sort": "oldest", "limit": 7},
    {"q": "elections", "limit": 100},
    {"q": '"human rights"', "limit": 100},
    {"q": "ODIHR OR RFoM", "limit": 100},
    {"q": "title:(albania OR serbia) -training", "limit": 100},
    {"q": "co-operation", "limit": 100},
    {"topic": "elections", "limit": 100},
    {"office": ["odihr", "mission-serbia"], "limit": 100},
    {"from": "2021-01-01T00:00:00Z", "to": "2021-12-31T23:59:59Z", "limit": 100},
]
FACETS = [{}, {"q": "elections"}, {"topic": "elections"}]


def answers(base: str) -> list[Any]:
    def get(path: str, params: dict[str, Any]) -> Any:
        response = httpx.get(base + path, params=params, timeout=30)
        assert response.status_code == 200, (path, params, response.text)
        return response.json()

    out: list[Any] = []
    for params in QUERIES:
        page = get("/v1/items", params)
        out.append(
            (
                page["total"],
                [(i["id"], i["title"], i.get("highlights")) for i in page["items"]],
                page["next_cursor"] is None,
            )
        )
    out += [get("/v1/facets", params) for params in FACETS]
    out += [get(path, {}) for path in ("/v1/offices", "/v1/topics", "/v1/countries")]
    return out


def test_replicas_and_a_rebuilt_index_answer_alike(stack: Stack) -> None:
    for service in ("ingest", "enrichment", "storage"):
        stack.start(f"{service}-1", service)
    stack.start("gateway-1", "gateway")
    first = stack.gateway
    stack.start("gateway-2", "gateway")
    second = stack.gateway
    pushed = push_sample(stack)
    assert pushed.stdout.strip().endswith("pushed 7 items (6 distinct stories), rejected 0")
    stored = 6

    def caught_up(base: str) -> bool:
        body = httpx.get(f"{base}/readyz", timeout=5).json()
        return body["status"] == "ready" and body["index"]["stories"] == stored

    eventually(lambda: stack.items().count_documents({}) == stored, timeout=30)
    eventually(lambda: caught_up(first) and caught_up(second), timeout=60)
    expected = answers(first)
    assert expected[0][0] == stored  # the whole sample, not an empty answer
    assert any(hl for _, hits, _ in expected[2:7] for _, _, hl in hits)  # highlights shown
    assert answers(second) == expected

    # A replica that lost its index rebuilds it from MongoDB and answers the same.
    stack.stop("gateway-2")
    shutil.rmtree(stack.logs / "index-gateway-2")
    stack.start("gateway-2", "gateway")
    rebuilt = stack.gateway
    eventually(lambda: caught_up(rebuilt), timeout=60)
    assert answers(rebuilt) == expected
