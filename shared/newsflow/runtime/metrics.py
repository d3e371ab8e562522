"""Prometheus metrics of one worker process.

Each worker owns a :class:`WorkerMetrics` on its own registry, so several
workers can live in one test process without clashing names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class WorkerMetrics:
    """Items in, out and failed; handler latency; lag and pending per group; dead letters;
    readiness (for an alert: Prometheus scrapes /metrics, not /readyz)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        labels = ["service"]
        self.items_in = Counter(
            "newsflow_items_in",
            "Entries read from the input stream.",
            labels,
            registry=self.registry,
        )
        self.items_out = Counter(
            "newsflow_items_out",
            "Entries handled and acknowledged.",
            labels,
            registry=self.registry,
        )
        self.items_failed = Counter(
            "newsflow_items_failed",
            "Failed deliveries (the entry stays pending for retry).",
            labels,
            registry=self.registry,
        )
        self.rejected = Counter(
            "newsflow_items_rejected",
            "Invalid items sent to the rejected stream.",
            labels,
            registry=self.registry,
        )
        self.duplicates = Counter(
            "newsflow_items_duplicate",
            "Repeats recognised by a publisher's idempotency key and not published again.",
            labels,
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "newsflow_dead_letters",
            "Entries moved to the dead-letter stream.",
            labels,
            registry=self.registry,
        )
        self.unresolved_labels = Counter(
            "newsflow_unresolved_labels",
            "Declared labels that matched no taxonomy entry.",
            ["service", "kind"],
            registry=self.registry,
        )
        self.transient_errors = Counter(
            "newsflow_transient_errors",
            "Batches retried in place because a dependency was down.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsflow_handler_seconds",
            "Time to handle one batch.",
            labels,
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.lag = Gauge(
            "newsflow_group_lag",
            "Entries not yet delivered to the group.",
            ["stream", "group"],
            registry=self.registry,
        )
        self.pending = Gauge(
            "newsflow_group_pending",
            "Entries delivered but not acknowledged.",
            ["stream", "group"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "newsflow_worker_ready",
            "1 while the worker is ready (its /readyz answers 200), 0 while not.",
            labels,
            registry=self.registry,
        )

        self.trimmed = Counter(
            "newsflow_stream_trimmed",
            "Entries removed by this process's retention trims (newsflow.runtime.retention).",
            ["stream"],
            registry=self.registry,
        )
        self.retention_floor = Gauge(
            "newsflow_retention_floor_timestamp_seconds",
            "Time part of the id below which the last trim removed entries.",
            ["stream"],
            registry=self.registry,
        )
        self.last_trim = Gauge(
            "newsflow_retention_last_trim_timestamp_seconds",
            "When this process last ran a trim pass of the stream.",
            ["stream"],
            registry=self.registry,
        )

        # Show every series from the start (at 0), not only after its first event.
        for counter in (
            self.items_in,
            self.items_out,
            self.items_failed,
            self.rejected,
            self.duplicates,
            self.dead_letters,
            self.transient_errors,
        ):
            counter.labels(service)
        self.latency.labels(service)

    def render(self) -> bytes:
        return generate_latest(self.registry)
