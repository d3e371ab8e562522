"""The JSON Schemas shipped in the package are the code's, byte for byte."""

from __future__ import annotations

import json

import jsonschema
import pytest

from newsflow.contracts.schemas import SCHEMAS_DIR, shipped_schemas
from newsflow.events import ALL_EVENTS

SHIPPED = shipped_schemas()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_schema_is_the_codes(name: str) -> None:
    path = SCHEMAS_DIR / name
    assert path.exists(), f"{name} is not shipped; run python -m newsflow.contracts.schemas"
    assert path.read_text(encoding="utf-8") == SHIPPED[name], (
        f"{name} differs from the code. If the change is additive, regenerate it "
        "(python -m newsflow.contracts.schemas); if it breaks consumers, make a new event type."
    )


def test_nothing_else_is_shipped() -> None:
    assert sorted(p.name for p in SCHEMAS_DIR.glob("*.json")) == sorted(SHIPPED)


def test_every_event_has_a_versioned_schema() -> None:
    names = {f"{m.__name__}.v1.json" for m in ALL_EVENTS}
    assert names <= set(SHIPPED)


def test_a_consumer_in_another_language_can_validate_with_them() -> None:
    """What a consumer elsewhere does: validate a decoded entry with a stock validator."""
    stored = json.loads((SCHEMAS_DIR / "ItemStored.v1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(stored)
    good = {
        "schema_version": 1,
        "event_id": "7f1f9c2e-2b1a-4c7e-9f00-000000000001",
        "occurred_at": "2026-01-01T00:00:00Z",
        "correlation_id": "1-0",
        "event_type": "item.stored",
        "item_id": "a",
        "copy_key": "c",
        "revision": 1,
        "created": True,
    }
    jsonschema.validate(good, stored)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "revision": "one"}, stored)

    publisher = json.loads((SCHEMAS_DIR / "PublisherItem.json").read_text(encoding="utf-8"))
    assert publisher["examples"]
    for example in publisher["examples"]:
        jsonschema.validate(example, publisher)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "x", "unknown": 1}, publisher)
