"""The pinned JSON Schemas that ship in the package, one file per contract.

``newsflow/schemas/<Event>.v<schema_version>.json`` is each event's schema as its
producers write it (pydantic's serialization schema, JSON Schema 2020-12), and
``newsflow/schemas/PublisherItem.json`` is what a publisher may put in the ``item``
field of ``news:ingest``. The files are the text :func:`shipped_schemas` returns, so
a test can compare them byte for byte; regenerate them with
``python -m newsflow.contracts.schemas`` after an additive change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

from newsflow.domain.contract import PublisherItem
from newsflow.events import ALL_EVENTS, Event

#: Where the schemas live inside the installed package.
SCHEMAS_DIR: Final = Path(__file__).resolve().parents[1] / "schemas"

#: The file name of the publisher item's schema.
PUBLISHER_SCHEMA: Final = "PublisherItem.json"


def _text(schema: object) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_file(model: type[Event]) -> str:
    """``ItemStored.v1.json``: the event's name and its schema version."""
    return f"{model.__name__}.v{model.model_fields['schema_version'].default}.json"


def event_schema(model: type[Event]) -> str:
    """The event's JSON Schema as producers write it, in its pinned text form."""
    return _text(model.model_json_schema(mode="serialization"))


def publisher_schema() -> str:
    """The publisher item's JSON Schema (what the ingest service accepts)."""
    return _text(PublisherItem.model_json_schema(mode="validation"))


def shipped_schemas() -> dict[str, str]:
    """Every file of ``newsflow/schemas`` as the code says it should read."""
    files = {schema_file(model): event_schema(model) for model in ALL_EVENTS}
    files[PUBLISHER_SCHEMA] = publisher_schema()
    return files


def write(folder: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every schema into ``folder`` (the package's own by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in shipped_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMAS_DIR):
        print("wrote", path)
