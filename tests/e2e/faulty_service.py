"""Test-only entry point: ``python -m tests.e2e.faulty_service <service>``.

Runs a worker service exactly as ``python -m newsflow_<service>`` does, from its own
``create_worker(settings)``, but as a :class:`tests.faults.FaultyWorker` with the
fault named by ``NEWSFLOW_FAULT`` (see :mod:`tests.faults`). :class:`tests.e2e.conftest.Stack`
starts it instead of the service whenever a test asks for a fault.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from faststream.redis import RedisBroker

from newsflow.runtime.service import run_worker
from newsflow.runtime.worker import Worker
from tests.faults import Fault, with_fault

#: The settings class of each worker service, by service name.
SETTINGS = {
    "ingest": "IngestSettings",
    "enrichment": "EnrichmentSettings",
    "storage": "StorageSettings",
}


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] not in SETTINGS:
        sys.exit(f"usage: python -m tests.e2e.faulty_service {{{','.join(SETTINGS)}}}")
    service = argv[1]
    fault = Fault.parse(os.environ.get("NEWSFLOW_FAULT", ""))
    settings_cls = getattr(
        importlib.import_module(f"newsflow_{service}.settings"), SETTINGS[service]
    )
    create: Callable[[Any], tuple[Worker, RedisBroker]] = importlib.import_module(
        f"newsflow_{service}.app"
    ).create_worker

    def create_faulty(settings: Any) -> tuple[Worker, RedisBroker]:
        worker, _unstarted = create(settings)
        return with_fault(worker, fault)

    run_worker(settings_cls, create_faulty)


if __name__ == "__main__":
    main(sys.argv)
