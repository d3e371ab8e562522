"""The AsyncAPI 3.0 document of every stream, built from the code.

Nothing here is written by hand that the code already says: the channels are the
stream names (:mod:`newsflow.streams`), the consumer groups are
:data:`newsflow.streams.GROUPS`, each message's payload schema is its pydantic
model's (:mod:`newsflow.events`; :class:`newsflow.domain.contract.PublisherItem` for
publishers), and the entry field is :data:`~newsflow.streams.ITEM_FIELD` or
:data:`~newsflow.streams.EVENT_FIELD`. What the models cannot say, who writes each
stream, is :data:`PRODUCERS` below, next to the rest.

A Redis stream entry is a set of field/value pairs. Each message's ``payload`` is the
decoded JSON object; ``x-newsflow-entry`` says which field of the entry holds it,
JSON-encoded as UTF-8 (AsyncAPI's Redis bindings define no fields yet).

``docs/asyncapi.json`` is the committed copy (``python -m newsflow.contracts.asyncapi
docs/asyncapi.json`` rewrites it); a test fails when it and :func:`asyncapi_json`
disagree, and the gateway serves :func:`asyncapi_document` at ``/asyncapi.json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from newsflow import __version__, streams
from newsflow.domain.contract import PublisherItem
from newsflow.events import ALL_EVENTS, Event

REF: Final = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Producer:
    """Who writes a stream, and who reads it outside a consumer group."""

    writers: tuple[str, ...]
    readers: tuple[str, ...] = ()


#: Who writes each stream; the readers in groups come from ``streams.GROUPS``.
PRODUCERS: Final[dict[str, Producer]] = {
    streams.INGEST: Producer(
        ("external publishers (XADD)", "gateway POST /v1/items", "newsflow push")
    ),
    streams.INGESTED: Producer(("ingest",)),
    streams.ENRICHED: Producer(("enrichment",)),
    streams.STORED: Producer(
        ("storage",), readers=("gateway search index and live feed (XREAD, no group)",)
    ),
    streams.REJECTED: Producer(
        ("ingest", "enrichment and storage (entries they cannot read)", "newsflow push"),
        readers=("operators: XRANGE news:rejected, newsflow status",),
    ),
    streams.DEAD: Producer(
        ("ingest", "enrichment", "storage"), readers=("operators: GET /v1/admin/dead-letters",)
    ),
}


def _channel_id(stream: str) -> str:
    return stream.replace(":", "_")


def _schemas() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = [(PublisherItem, "validation")]
    models += [(model, "serialization") for model in ALL_EVENTS]
    refs, top = models_json_schema(models, ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    # Each model is in $defs under its own name: check that, not assume it.
    for (model, mode), ref in ((k, v) for k, v in refs.items()):
        assert ref["$ref"] == REF.format(model=model.__name__), (model, mode, ref)
    return dict(sorted(defs.items()))


def _message(model: type[BaseModel], field: str, summary: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": model.__name__,
        "title": model.__name__,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=model.__name__)},
        "x-newsflow-entry": {
            "field": field,
            "value": "the payload, JSON-encoded as UTF-8",
            # Events carry their trace context in the payload; a publisher's entry beside it.
            "optional": (
                {"traceparent": "W3C trace context of the writer; the consumer continues it"}
                if not issubclass(model, Event)
                else {}
            ),
        },
    }
    if issubclass(model, Event):
        message["correlationId"] = {
            "description": "Follows one item through the pipeline.",
            "location": "$message.payload#/correlation_id",
        }
        version = model.model_fields["schema_version"].default
        message["x-newsflow-schema"] = f"newsflow/schemas/{model.__name__}.v{version}.json"
    else:
        message["x-newsflow-schema"] = "newsflow/schemas/PublisherItem.json"
        examples: list[Any] = model.model_json_schema().get("examples", [])
        message["examples"] = [
            {"name": f"example{i + 1}", "payload": e} for i, e in enumerate(examples)
        ]
    return message


def _first_line(model: type[BaseModel]) -> str:
    return (model.__doc__ or model.__name__).strip().splitlines()[0]


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: one channel per stream, its message, its producers
    (``send`` operations) and its consumer groups (``receive`` operations)."""
    by_stream: dict[str, type[Event]] = {model.stream: model for model in ALL_EVENTS}
    assert set(by_stream) | {streams.INGEST} == set(streams.ALL_STREAMS), by_stream
    assert set(PRODUCERS) == set(streams.ALL_STREAMS), PRODUCERS

    messages: dict[str, Any] = {
        "PublisherItem": _message(
            PublisherItem,
            streams.ITEM_FIELD,
            "One news item as a publisher sends it. Unknown fields are rejected.",
        )
    }
    for model in ALL_EVENTS:
        messages[model.__name__] = _message(model, streams.EVENT_FIELD, _first_line(model))

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for stream in streams.ALL_STREAMS:
        name = _channel_id(stream)
        message = "PublisherItem" if stream == streams.INGEST else by_stream[stream].__name__
        producer = PRODUCERS[stream]
        group = streams.GROUPS.get(stream)
        channels[name] = {
            "address": stream,
            "title": stream,
            "description": (
                f"Redis stream `{stream}`. Entry field "
                f"`{messages[message]['x-newsflow-entry']['field']}`: the JSON of "
                f"{message}. Written by {', '.join(producer.writers)}."
                + (f" Read by consumer group `{group}`." if group else "")
                + (f" Read by {', '.join(producer.readers)}." if producer.readers else "")
            ),
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
            "servers": [{"$ref": "#/servers/redis"}],
            "x-newsflow-producers": list(producer.writers),
            "x-newsflow-consumer-groups": [group] if group else [],
        }
        ref = {"$ref": f"#/channels/{name}"}
        message_ref = [{"$ref": f"#/channels/{name}/messages/{message}"}]
        operations[f"write_{name}"] = {
            "action": "send",
            "channel": ref,
            "summary": f"XADD to {stream}: {', '.join(producer.writers)}.",
            "messages": message_ref,
        }
        if group:
            operations[f"{group}_reads_{name}"] = {
                "action": "receive",
                "channel": ref,
                "summary": f"Consumer group `{group}` (XREADGROUP, one consumer per process).",
                "messages": message_ref,
                "x-newsflow-consumer-group": group,
            }
        for i, reader in enumerate(producer.readers, start=1):
            operations[f"read_{name}_{i}"] = {
                "action": "receive",
                "channel": ref,
                "summary": f"{reader}.",
                "messages": message_ref,
            }

    return {
        "asyncapi": "3.0.0",
        "id": "urn:newsflow:streams",
        "info": {
            "title": "Newsflow event streams",
            "version": __version__,
            "description": (streams.__doc__ or "").strip(),
            "license": {
                "name": "Apache-2.0",
                "url": "https://www.apache.org/licenses/LICENSE-2.0",
            },
        },
        "defaultContentType": "application/json",
        "servers": {
            "redis": {
                "host": "127.0.0.1:6379",
                "protocol": "redis",
                "description": "The pipeline's Redis (REDIS_URL); any Redis 5+ with streams.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": _schemas(), "messages": messages},
    }


def asyncapi_json() -> str:
    """The document as committed in ``docs/asyncapi.json``."""
    return json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if target is None:
        sys.stdout.write(asyncapi_json())
    else:
        target.write_text(asyncapi_json(), encoding="utf-8")
        print("wrote", target)
