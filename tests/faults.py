"""Fault injection for the tests: a worker that kills itself or fails entries on cue.

Production code carries no fault switch. :class:`FaultyWorker` overrides the
worker's two no-op hooks (:meth:`Worker.before_handle`, :meth:`Worker.before_ack`),
and :mod:`tests.e2e.faulty_service` runs a service with it. A fault is one of

- ``before_handle[:N]``: SIGKILL itself when its N-th batch is about to be handled
  (nothing of that batch is written);
- ``before_ack[:N]``: SIGKILL itself when its N-th batch was handled (written, in
  storage's case) but is neither published onward nor acknowledged;
- ``fail_on:TEXT``: every entry with TEXT in one of its fields fails, on every delivery.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from faststream.redis import RedisBroker

from newsflow.runtime.redis_factory import create_broker
from newsflow.runtime.worker import Entry, Failed, Outcome, Worker

log = logging.getLogger("tests.faults")

POINTS = ("before_handle", "before_ack")


@dataclass(frozen=True, slots=True)
class Fault:
    """A parsed fault: a kill point with its batch number, or a marker that fails entries."""

    point: str | None = None
    batch: int = 1
    fail_on: str | None = None

    @classmethod
    def parse(cls, spec: str) -> Fault:
        name, _, arg = spec.partition(":")
        if name == "fail_on" and arg:
            return cls(fail_on=arg)
        if name in POINTS:
            return cls(point=name, batch=int(arg or "1"))
        raise ValueError(f"unknown fault {spec!r}: {', '.join(POINTS)}[:N] or fail_on:TEXT")


@dataclass
class FaultyWorker(Worker):
    """A :class:`Worker` with a fault switched on."""

    fault: Fault = dataclasses.field(default_factory=Fault)
    batches: int = 0

    async def before_handle(self, entries: Sequence[Entry]) -> None:
        self.batches += 1
        self._maybe_kill("before_handle")

    async def before_ack(
        self, entries: Sequence[Entry], outcomes: Sequence[Outcome]
    ) -> Sequence[Outcome]:
        self._maybe_kill("before_ack")
        marker = self.fault.fail_on
        if marker is None:
            return outcomes
        return [
            Failed("injected failure (fault fail_on)")
            if any(marker in value for value in entry.fields.values())
            else outcome
            for entry, outcome in zip(entries, outcomes, strict=True)
        ]

    def _maybe_kill(self, point: str) -> None:
        if self.fault.point == point and self.batches == self.fault.batch:
            log.critical("fault injection: SIGKILL at %s of batch %d", point, self.batches)
            os.kill(os.getpid(), signal.SIGKILL)


def with_fault(worker: Worker, fault: Fault) -> tuple[FaultyWorker, RedisBroker]:
    """The same worker (handler, clients, metrics) as a :class:`FaultyWorker`, on a new broker.

    The service's own broker is dropped unstarted: it connected to nothing.
    """
    same = {
        f.name: getattr(worker, f.name)
        for f in dataclasses.fields(worker)
        if f.init and not f.name.startswith("_")
    }
    faulty = FaultyWorker(**same, fault=fault)
    broker = create_broker(worker.settings.redis_url)
    faulty.register(broker)
    return faulty, broker
