"""Process plumbing shared by every service's ``__main__``: settings, logging, exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Final, NoReturn, TypeVar

from faststream.redis import RedisBroker
from pydantic import ValidationError

from newsflow.runtime.logs import configure_logging
from newsflow.runtime.retention import trimmer_for
from newsflow.runtime.tracing import configure_tracing
from newsflow.runtime.worker import Worker, serve
from newsflow.settings import ServiceSettings, WorkerSettings

S = TypeVar("S", bound=ServiceSettings)

#: The exit code of a service that cannot start with its configuration: EX_CONFIG
#: of sysexits.h (``os.EX_CONFIG`` on Unix). Distinct from 1 (a crash, or a Redis
#: that cannot serve): a supervisor restarts a crash, but restarting a bad setting
#: or a missing model file only fails again, so ``newsflow run`` does not.
EX_CONFIG: Final = 78


def exit_config(message: str) -> NoReturn:
    """Say what is wrong with the configuration on stderr and exit :data:`EX_CONFIG`."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    raise SystemExit(EX_CONFIG)


def load_settings(cls: type[S]) -> S:
    """Read settings or exit (:data:`EX_CONFIG`) with a message naming the bad variables."""
    try:
        return cls()
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        exit_config(f"Invalid configuration for {cls.__name__}:\n" + "\n".join(lines))


def run_service(main: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Run ``main`` and exit with its code (0 only for a clean, requested stop)."""
    sys.exit(asyncio.run(main()))


W = TypeVar("W", bound=WorkerSettings)


def run_worker(
    settings_cls: type[W], create_worker: Callable[[W], tuple[Worker, RedisBroker]]
) -> None:
    """The whole ``__main__`` of a worker service: settings, logging, serve, exit code."""

    async def main() -> int:
        settings = load_settings(settings_cls)
        try:
            worker, broker = create_worker(settings)
        except (ValueError, OSError) as exc:
            # A file the settings name (taxonomy, topic model) is missing or invalid:
            # one message naming it, not a traceback, and no retry that could help.
            exit_config(f"Cannot start with {settings_cls.__name__}: {exc}")
        configure_logging(settings.log_level, settings.log_format, worker.service)
        provider = configure_tracing(worker.service, settings.otlp_endpoint)
        try:
            async with trimmer_for(worker).running():  # bounded streams (ADR 0006)
                return await serve(worker, broker)
        finally:
            if provider is not None:
                provider.shutdown()  # sends what is still buffered

    run_service(main)
