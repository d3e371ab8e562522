"""``newsflow push``: read a file of items, check each, and XADD the good ones.

Items are checked with the same normaliser the ingest service runs, so a bad line
is reported to the person pushing, with its line number, instead of surfacing
later on the rejected stream. Good items are sent in pipelined batches in the
plain publisher form (``item=<json>``), exactly as any other publisher would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TextIO

import orjson
import redis as redis_sync

from newsflow import streams
from newsflow.domain.formats.common import ParseError, ParseResult
from newsflow.domain.formats.feeds import looks_like_feed, parse_feed
from newsflow.domain.formats.jsonl import parse_json, parse_jsonl
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.formats.ninjs import looks_like_ninjs, parse_ninjs
from newsflow.domain.normalise import Rejection, normalise
from newsflow.events import utcnow
from newsflow_tools.status import group_lag

Format = Literal["auto", "newsroom", "jsonl", "json", "ninjs", "feed"]
FORMATS: tuple[Format, ...] = ("auto", "newsroom", "jsonl", "json", "ninjs", "feed")
BATCH: Final = 500
INGEST_GROUP: Final = streams.GROUPS[streams.INGEST]


def detect_format(path: Path, text: str) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".rss", ".atom", ".xml") or looks_like_feed(text):
        return "feed"
    if looks_like_ninjs(text):
        return "ninjs"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "jsonl"
    return "newsroom"


def parse_file(path: Path, fmt: Format = "auto") -> ParseResult:
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace" if raw.lstrip().startswith(b"<") else "strict")
    chosen = detect_format(path, text) if fmt == "auto" else fmt
    if chosen == "feed":
        from newsflow.domain.tagging import Tagger
        from newsflow.domain.taxonomy import load_taxonomy

        tagger = Tagger(load_taxonomy())
        # Bytes, so feedparser honours the XML declaration's encoding.
        return parse_feed(raw, topic_labels=lambda label: tagger.resolve_topic(label) is not None)
    if chosen == "ninjs":
        return parse_ninjs(text)
    if chosen == "newsroom":
        return parse_newsroom(text)
    if chosen == "json":
        return parse_json(text)
    return parse_jsonl(text)


@dataclass
class PushReport:
    read: int = 0
    pushed: int = 0
    rejected: list[ParseError] = field(default_factory=list)
    entry_ids: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)


def push(
    result: ParseResult,
    client: redis_sync.Redis,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_lag: int = 10_000,
    sleep: Callable[[float], None] = time.sleep,
) -> PushReport:
    """Validate and push parsed items; slow down while the pipeline lags behind."""
    report = PushReport(read=len(result.items) + len(result.errors), rejected=list(result.errors))
    now = utcnow()
    batch: list[bytes] = []
    total = len(result.items)

    def flush() -> None:
        waited = 0.0
        while (
            max_lag and group_lag(client, streams.INGEST, INGEST_GROUP) > max_lag and waited < 300
        ):
            sleep(0.5)
            waited += 0.5
        pipe = client.pipeline(transaction=False)
        for payload in batch:
            pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: payload})
        ids = pipe.execute()
        report.entry_ids.extend(i.decode() if isinstance(i, bytes) else str(i) for i in ids)
        report.pushed += len(batch)
        batch.clear()
        if progress:
            progress(report.pushed + len(report.rejected) - len(result.errors), total)

    for parsed in result.items:
        try:
            item = normalise(parsed.item, now=now)
        except Rejection as rejection:
            report.rejected.append(ParseError(parsed.line, rejection.reason))
            continue
        report.item_ids.append(item.id)
        batch.append(orjson.dumps(parsed.item))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    report.rejected.sort(key=lambda e: e.line)
    return report


def print_report(report: PushReport, out: TextIO) -> None:
    for error in report.rejected:
        out.write(f"line {error.line}: rejected: {error.message}\n")
    distinct = len(set(report.item_ids))
    out.write(
        f"pushed {report.pushed} items ({distinct} distinct stories), "
        f"rejected {len(report.rejected)}\n"
    )
