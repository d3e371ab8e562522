"""The AsyncAPI document: built from the code, committed, valid AsyncAPI 3.0.

The official AsyncAPI 3.0 JSON Schema is in the npm package ``@asyncapi/specs``; the
validation test reads it from ``NEWSFLOW_ASYNCAPI_SPECS`` (a ``3.0.0.json`` file) or
fetches the package with ``npm pack``, and is skipped, saying why, when neither works.
The structural checks below run everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newsflow import streams
from newsflow.contracts.asyncapi import asyncapi_document, asyncapi_json
from newsflow.events import ALL_EVENTS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"
SPECS_PACKAGE = "@asyncapi/specs@6.11.1"


def test_the_committed_copy_is_the_codes() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi_json(), (
        "docs/asyncapi.json differs from the code; regenerate it with "
        "python -m newsflow.contracts.asyncapi docs/asyncapi.json"
    )


def test_every_stream_is_a_channel_with_its_message_and_entry_field() -> None:
    doc = asyncapi_document()
    by_address = {c["address"]: c for c in doc["channels"].values()}
    assert set(by_address) == set(streams.ALL_STREAMS)
    events = {m.stream: m.__name__ for m in ALL_EVENTS}
    for stream, channel in by_address.items():
        (name,) = channel["messages"]
        message = doc["components"]["messages"][name]
        if stream == streams.INGEST:
            assert name == "PublisherItem"
            assert message["x-newsflow-entry"]["field"] == streams.ITEM_FIELD
        else:
            assert name == events[stream]
            assert message["x-newsflow-entry"]["field"] == streams.EVENT_FIELD
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert channel["x-newsflow-producers"], stream


def test_the_consumer_groups_are_receive_operations() -> None:
    doc = asyncapi_document()
    groups = {
        op["x-newsflow-consumer-group"]: op["channel"]["$ref"]
        for op in doc["operations"].values()
        if op["action"] == "receive" and "x-newsflow-consumer-group" in op
    }
    assert {group: _resolve(doc, ref)["address"] for group, ref in groups.items()} == {
        group: stream for stream, group in streams.GROUPS.items()
    }


def test_every_reference_resolves() -> None:
    doc = asyncapi_document()

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
            return own + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    found = refs(doc)
    assert len(found) > 20
    for ref in found:
        assert _resolve(doc, ref) is not None, ref


def test_the_message_schemas_validate_what_the_producers_write() -> None:
    """The payload schemas in the document accept real events (Draft 2020-12 refs)."""
    from tests.unit.test_events import one_of_each

    doc = asyncapi_document()
    for event in one_of_each():
        schema = {**doc["components"]["schemas"][type(event).__name__]}
        schema["components"] = doc["components"]
        jsonschema.validate(event.model_dump(mode="json"), schema)


def test_the_document_is_valid_asyncapi_3(tmp_path: Path) -> None:
    spec = _asyncapi_3_schema(tmp_path)
    validator = jsonschema.Draft7Validator(spec)
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in validator.iter_errors(asyncapi_document())
    ]
    assert errors == []
    broken = asyncapi_document()
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word
    assert list(validator.iter_errors(broken)), "the schema must catch a wrong action"


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _asyncapi_3_schema(tmp_path: Path) -> dict[str, Any]:
    given = os.environ.get("NEWSFLOW_ASYNCAPI_SPECS")
    if given:
        loaded: dict[str, Any] = json.loads(Path(given).read_text(encoding="utf-8"))
        return loaded
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("no AsyncAPI 3.0 schema: set NEWSFLOW_ASYNCAPI_SPECS or install npm")
    try:
        result = subprocess.run(
            [npm, "pack", SPECS_PACKAGE, "--pack-destination", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm pack {SPECS_PACKAGE} took over 30 s (offline?)")
    tarballs = list(tmp_path.glob("*.tgz"))
    if result.returncode != 0 or not tarballs:
        pytest.skip(f"npm pack {SPECS_PACKAGE} failed (offline?): {result.stderr[-300:]}")
    with tarfile.open(tarballs[0]) as tar:
        member = tar.extractfile("package/schemas/3.0.0-without-$id.json")
        assert member is not None
        spec: dict[str, Any] = json.loads(member.read())
    return spec
