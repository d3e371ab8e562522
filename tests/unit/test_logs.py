"""Log lines: JSON records with the item's ids, one record per traceback, text for terminals."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider

from newsflow.runtime.logs import JsonFormatter, TextFormatter, configure_logging, item_context
from newsflow.runtime.worker import Entry

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


class Capture(logging.Handler):
    """Keeps what a formatter made of each record."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines() -> Iterator[list[str]]:
    capture = Capture(JsonFormatter("storage"))
    logger = logging.getLogger("newsflow.test_logs")
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    yield capture.lines
    logger.removeHandler(capture)


log = logging.getLogger("newsflow.test_logs")


def test_a_json_line_has_the_standard_fields(json_lines: list[str]) -> None:
    log.warning("disk %s is %d%% full", "/data", 93)
    (line,) = json_lines
    record = orjson.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "newsflow.test_logs"
    assert record["message"] == "disk /data is 93% full"
    assert record["service"] == "storage"
    assert record["time"].endswith("+00:00")
    assert not {"story_id", "entry_id", "trace_id", "exc_info"} & record.keys()


def test_a_line_about_an_item_names_its_story_entry_and_trace(json_lines: list[str]) -> None:
    with item_context(story_id="s-1", entry_id="1700000000000-0", trace_id=TRACE_ID):
        log.info("stored")
        with item_context(entry_id="1700000000001-0"):  # an inner context overrides one field
            log.info("announced")
    log.info("idle")
    first, inner, after = (orjson.loads(line) for line in json_lines)
    assert (first["story_id"], first["entry_id"], first["trace_id"]) == (
        "s-1",
        "1700000000000-0",
        TRACE_ID,
    )
    assert (inner["story_id"], inner["entry_id"]) == ("s-1", "1700000000001-0")
    assert "story_id" not in after


def test_the_entry_log_context_reads_the_story_and_the_trace_from_the_entry(
    json_lines: list[str],
) -> None:
    entry = Entry(
        id="1700000000000-0",
        body={"item": {"id": "story-42"}, "traceparent": TRACEPARENT},
        fields={},
        correlation_id="1700000000000-0",
        traceparent=TRACEPARENT,
    )
    with entry.log_context():
        log.error("failed")
    record = orjson.loads(json_lines[0])
    assert record["story_id"] == "story-42"
    assert record["entry_id"] == "1700000000000-0"
    assert record["trace_id"] == TRACE_ID


def test_the_current_span_gives_the_trace_id_when_none_was_set(json_lines: list[str]) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        log.info("inside a span")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert orjson.loads(json_lines[0])["trace_id"] == trace_id


def test_a_traceback_is_one_record(json_lines: list[str]) -> None:
    try:
        raise ValueError('bad "quote"\nand a second line')
    except ValueError:
        log.exception("handler failed")
    (line,) = json_lines
    assert "\n" not in line
    record = orjson.loads(line)
    assert record["message"] == "handler failed"
    assert record["exc_info"].startswith("Traceback (most recent call last):")
    assert 'ValueError: bad "quote"\nand a second line' in record["exc_info"]


def test_text_lines_append_the_item_fields() -> None:
    capture = Capture(TextFormatter("ingest"))
    record = logging.LogRecord("newsflow.x", logging.INFO, __file__, 1, "stored %s", ("a",), None)
    with item_context(story_id="s-1", entry_id="1-0"):
        line = capture.format(record)
    assert " INFO ingest newsflow.x " in line
    assert line.endswith("stored a [story_id=s-1 entry_id=1-0]")
    assert capture.format(record).endswith("stored a")


def test_configure_logging_replaces_the_root_handler() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        configure_logging("INFO", "json", "gateway")
        configure_logging("WARNING", "json", "gateway")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
        root.setLevel(level)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_worker_logs_json_when_told() -> None:
    """A worker with no Redis to reach says so; with NEWSFLOW_LOG_FORMAT=json, as JSON."""
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NEWSFLOW_LOG_FORMAT": "json",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "newsflow_ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        records = []
        try:
            assert proc.stderr is not None
            # The worker's own wait comes in the first few lines (the retention
            # trimmer stays quiet until Redis answers).
            for line in proc.stderr:
                records.append(orjson.loads(line))
                if "waiting for Redis" in records[-1]["message"] or len(records) >= 5:
                    break
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
    assert all(r["service"] == "ingest" for r in records)
    waiting = [r for r in records if "waiting for Redis" in r["message"]]
    assert waiting
    assert waiting[0]["level"] == "WARNING"


def test_an_unknown_log_format_stops_the_worker_naming_the_setting() -> None:
    env = {**os.environ, "NEWSFLOW_LOG_FORMAT": "xml"}
    result = subprocess.run(
        [sys.executable, "-m", "newsflow_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78  # EX_CONFIG: not worth restarting
    assert "log_format" in result.stderr
