"""``newsflow_gateway_requests_total`` counts every answer, 5xx included; and who
may read ``/metrics``."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.gateway.conftest import Start, assert_problem


def requests_total(text: str) -> dict[tuple[str, str, str], float]:
    return {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "newsflow_gateway_requests_total"
    }


def add_failing_route(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)


async def test_every_answer_is_counted_with_its_status_5xx_included(start: Start) -> None:
    async with start(setup=add_failing_route) as gw:
        assert_problem(await gw.client.get("/boom"), 500)
        assert_problem(await gw.client.get("/boom"), 500)
        await gw.client.get("/healthz")
        assert_problem(await gw.client.get("/v1/items?limit=0"), 422)
        counted = requests_total((await gw.client.get("/metrics")).text)
    assert counted[("/boom", "GET", "500")] == 2
    assert counted[("/healthz", "GET", "200")] == 1
    assert counted[("/v1/items", "GET", "422")] == 1


async def test_metrics_are_public_while_reading_is(start: Start) -> None:
    async with start() as gw:
        assert (await gw.client.get("/metrics")).status_code == 200


async def test_metrics_need_an_admin_key_when_reading_needs_a_key(start: Start) -> None:
    async with start(read_requires_key=True) as gw:
        assert_problem(await gw.client.get("/metrics"), 401)
        reader = await gw.key("read")
        forbidden = await gw.client.get("/metrics", headers={"Authorization": f"Bearer {reader}"})
        assert_problem(forbidden, 403)
        admin = await gw.key("admin")
        allowed = await gw.client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
        assert allowed.status_code == 200
        assert "newsflow_gateway_requests_total" in allowed.text


async def test_a_metrics_port_takes_metrics_off_the_public_port(start: Start) -> None:
    async with start(metrics_port=0) as gw:
        assert_problem(await gw.client.get("/metrics"), 404)
        await gw.client.get("/healthz")
        port = gw.app.state.metrics_port
        async with httpx.AsyncClient() as plain:
            scraped = await plain.get(f"http://127.0.0.1:{port}/metrics")
        assert requests_total(scraped.text)[("/healthz", "GET", "200")] == 1
