"""The runtime every service shares: the stream worker and its delivery guarantees,
client factories, health and metrics, lag, dead letters, API keys and enqueueing.

``__all__`` re-exports the names the services use; the modules stay importable by
their own paths (``newsflow.runtime.worker`` and so on). The worker's design is in
``docs/adr/0001-stream-worker.md``.
"""

from newsflow.runtime import deadletters, keys
from newsflow.runtime.lag import group_state
from newsflow.runtime.logs import configure_logging
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.mongo import ITEM_INDEXES, ITEMS, create_mongo_client, ensure_indexes
from newsflow.runtime.redis_factory import create_broker, create_redis
from newsflow.runtime.service import load_settings, run_worker
from newsflow.runtime.worker import (
    Done,
    Entry,
    Failed,
    Outcome,
    TransientError,
    Worker,
    build_worker,
)

__all__ = [
    "ITEMS",
    "ITEM_INDEXES",
    "Done",
    "Entry",
    "Failed",
    "Outcome",
    "TransientError",
    "Worker",
    "WorkerMetrics",
    "build_worker",
    "configure_logging",
    "create_broker",
    "create_mongo_client",
    "create_redis",
    "deadletters",
    "ensure_indexes",
    "group_state",
    "keys",
    "load_settings",
    "run_worker",
]
