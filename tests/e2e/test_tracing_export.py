"""Traces leave real processes over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

A small HTTP server stands in for the OpenTelemetry collector and keeps what is
POSTed to ``/v1/traces`` (OTLP protobuf). The ingest and enrichment services run as
processes on a real redis-server; an item XADDed with the publisher's
``traceparent`` must reach the collector as spans of that trace from both processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
import redis as redis_sync
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers import eventually

pytestmark = pytest.mark.e2e

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


class Collector(ThreadingHTTPServer):
    """Keeps (service name, span name, trace id hex) of every span it receives."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.spans: list[tuple[str, str, str]] = []


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource.scope_spans:
                    self.server.spans += [(service, s.name, s.trace_id.hex()) for s in scope.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was received, not the access log."""


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_spans_of_one_item_reach_the_collector_from_each_process(
    redis_url: str, collector: Collector
) -> None:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export every 100 ms, not every 5 s
        "NEWSFLOW_POLL_MS": "100",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for module in ("newsflow_ingest", "newsflow_enrichment")
    ]
    try:
        client = redis_sync.Redis.from_url(redis_url)
        client.xadd(
            "news:ingest",
            {
                "item": orjson.dumps({"title": "ODIHR opens a mission"}),
                "traceparent": CLIENT_TRACEPARENT,
            },
        )
        client.close()
        expected = {
            ("newsflow-ingest", "process news:ingest", CLIENT_TRACE),
            ("newsflow-enrichment", "process news:ingested", CLIENT_TRACE),
        }
        eventually(lambda: expected <= set(collector.spans), timeout=60)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            _, err = process.communicate(timeout=30)
            assert process.returncode == 0, err.decode()[-3000:]
