"""Reading a raw stream entry: bytes in, the body a handler sees out, or why not.

FastStream would decode a batch itself, and an entry it cannot decode (bytes that
are not UTF-8, say) makes it raise before any handler runs, for the whole batch,
on every delivery. So the worker hands FastStream nothing to decode and reads the
raw entries here, one at a time: an entry that cannot be read becomes an
:class:`Undecodable` that the worker rejects on its own, and the rest of the batch
flows on.

An entry is readable when

- every field name and value is UTF-8 text;
- it holds the stage's payload field (``item`` on ``news:ingest``, ``event`` on our
  own streams), or FastStream's envelope (``__data__``) holding a JSON value;
- for ``event`` entries, the event is valid JSON. (On ``news:ingest`` the
  normaliser parses the item after its size check, and rejects bad JSON itself.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from faststream.redis.parser import BinaryMessageFormatV1

from newsflow.streams import EVENT_FIELD

#: The field FastStream's publishers put their envelope in.
ENVELOPE_FIELD: Final = "__data__"
#: Prefix of a field name in :func:`raw_fields_base64` that is not UTF-8 itself.
BASE64_NAME_PREFIX: Final = "base64:"


@dataclass(frozen=True, slots=True)
class Undecodable:
    """An entry no handler can read: which part is wrong, and how."""

    field: str
    message: str

    @property
    def reason(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Decoded:
    """A readable entry: the body handed to the handler and the fields as text."""

    body: Any
    fields: dict[str, str]


def _bytes(value: Any) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()


def _text_or_none(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


#: Field names in a reason (and so in a log line) are clipped: a publisher's entry
#: may hold a field name of megabytes, or thousands of fields.
NAME_CHARS: Final = 100
NAMES_SHOWN: Final = 20


def _clip(name: str) -> str:
    return name if len(name) <= NAME_CHARS else f"{name[:NAME_CHARS]}... ({len(name)} chars)"


def _names(names: Iterable[str]) -> str:
    """At most :data:`NAMES_SHOWN` sorted names, each clipped, and how many more."""
    ordered = sorted(names)
    shown = [_clip(n) for n in ordered[:NAMES_SHOWN]]
    more = len(ordered) - len(shown)
    return repr(shown) + (f" and {more} more" if more else "")


def decode_entry(raw: Mapping[Any, Any], payload_field: str | None) -> Decoded | Undecodable:
    """Read one entry's raw fields as the stage reading ``payload_field`` expects.

    With ``payload_field`` None any UTF-8 fields will do. The body is what handlers
    have always received: the fields as text (``{"item":
    "<json>"}``), or, for FastStream's envelope, the JSON value inside it.
    """
    fields = {_bytes(k): _bytes(v) for k, v in raw.items()}
    envelope = fields.get(ENVELOPE_FIELD.encode())
    if envelope is not None and len(fields) == 1:
        return _decode_envelope(envelope)
    text: dict[str, str] = {}
    for name, value in fields.items():
        try:
            key = name.decode("utf-8")
        except UnicodeDecodeError:
            shown = _clip(name.decode("utf-8", "backslashreplace"))
            return Undecodable("entry", f"field name {shown!r} is not valid UTF-8")
        try:
            text[key] = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Undecodable(_clip(key), f"not valid UTF-8 (byte {exc.start}: {exc.reason})")
    if payload_field is not None and payload_field not in text:
        return Undecodable("entry", f"no '{payload_field}' field (fields present: {_names(text)})")
    if payload_field == EVENT_FIELD:
        try:
            orjson.loads(text[payload_field])
        except orjson.JSONDecodeError as exc:
            return Undecodable(payload_field, f"not valid JSON: {exc}")
    return Decoded(body=text, fields=text)


def _decode_envelope(data: bytes) -> Decoded | Undecodable:
    payload, _headers = BinaryMessageFormatV1.parse(data)
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Undecodable(ENVELOPE_FIELD, "not a FastStream envelope holding a JSON value")
    # Its readable form, for dead letters: FastStream's binary header is not text.
    return Decoded(body=body, fields={ENVELOPE_FIELD: orjson.dumps(body).decode()})


def raw_fields_base64(raw: Mapping[Any, Any]) -> dict[str, str]:
    """An entry's exact bytes, in JSON: each value base64-encoded, under its field name.

    A field name that is not UTF-8 is itself base64-encoded, after ``base64:``.
    :func:`fields_from_base64` reverses it.
    """
    out: dict[str, str] = {}
    for name, value in raw.items():
        name_bytes = _bytes(name)
        key = _text_or_none(name_bytes)
        if key is None or key.startswith(BASE64_NAME_PREFIX):
            key = BASE64_NAME_PREFIX + base64.b64encode(name_bytes).decode()
        out[key] = base64.b64encode(_bytes(value)).decode()
    return out


def fields_from_base64(payload: Mapping[str, str]) -> dict[bytes, bytes]:
    """The entry's fields as they were on the stream, from :func:`raw_fields_base64`."""
    try:
        return {
            (
                base64.b64decode(name.removeprefix(BASE64_NAME_PREFIX), validate=True)
                if name.startswith(BASE64_NAME_PREFIX)
                else name.encode()
            ): base64.b64decode(value, validate=True)
            for name, value in payload.items()
        }
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
