"""Log lines an operator can search: JSON in production, readable text in a terminal.

A line about one item carries that item's ``story_id``, ``entry_id`` and
``trace_id``, so that a search for a story finds every line the four services
wrote about it, and the trace id leads to its trace. The worker and the gateway's
publish route set them with :func:`item_context` around the work on one item; a
``ContextVar`` carries them to every log call made inside, in any module, without
passing them down as arguments (and each asyncio task sees its own).

A traceback stays inside its record: the JSON formatter writes it as the string
field ``exc_info``, so a log shipper reading one line per record keeps it whole.

Only the standard library's :mod:`logging`: third-party loggers (uvicorn,
FastStream, pymongo) go through the same root handler and come out in the same
format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, Literal

import orjson
from opentelemetry import trace

LogFormat = Literal["json", "text"]

#: The item fields a line about one item carries, in this order.
ITEM_FIELDS: Final = ("story_id", "entry_id", "trace_id")

_item: ContextVar[dict[str, str] | None] = ContextVar("newsflow_log_item", default=None)


@contextmanager
def item_context(
    *, story_id: str | None = None, entry_id: str | None = None, trace_id: str | None = None
) -> Iterator[None]:
    """Every line logged inside names this item; unset fields keep the outer value."""
    given = {"story_id": story_id, "entry_id": entry_id, "trace_id": trace_id}
    token = _item.set({**(_item.get() or {}), **{k: v for k, v in given.items() if v}})
    try:
        yield
    finally:
        _item.reset(token)


def current_item() -> dict[str, str]:
    """The item fields in force here; the trace id of the current span when none was set."""
    fields = dict(_item.get() or {})
    if "trace_id" not in fields:
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            fields["trace_id"] = trace.format_trace_id(span.trace_id)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, service, item fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            **current_item(),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(line).decode()


class TextFormatter(logging.Formatter):
    """The classic one-line text format, with the item fields appended in brackets."""

    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s [%(process)d] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib name)
        text = super().formatMessage(record)
        item = current_item()
        if item:
            text += " [" + " ".join(f"{k}={item[k]}" for k in ITEM_FIELDS if k in item) + "]"
        return text


def formatter(log_format: LogFormat, service: str) -> logging.Formatter:
    return JsonFormatter(service) if log_format == "json" else TextFormatter(service)


def configure_logging(
    level: str, log_format: LogFormat = "text", service: str = "newsflow"
) -> None:
    """One stderr handler on the root logger, in ``log_format``; replaces any earlier one."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format, service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # FastStream logs every message at INFO; that is noise at our volumes.
    logging.getLogger("faststream").setLevel(max(logging.WARNING, logging.getLevelName(level)))
