"""Redis replies as text, and stream ids checked before Redis sees them.

redis-py returns bytes unless a client decodes responses, and our clients do not
(entry payloads are JSON bytes and stay bytes). Ids, names and group fields are
text: :func:`text` is the one place that turns a reply value into ``str``.
"""

from __future__ import annotations

import re
from typing import Final

#: The largest part of a stream id: both halves are unsigned 64-bit integers.
_U64_MAX: Final = 2**64 - 1
_STREAM_ID: Final = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")


def text(value: object) -> str:
    """A Redis reply value as ``str``: bytes are UTF-8 decoded, anything else ``str()``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def is_stream_id(value: str) -> bool:
    """True for a complete stream id that Redis accepts (``<ms>-<seq>``, each ≤ 2⁶⁴-1).

    Checked before a command so that a bad id is the caller's error, named as such,
    and not a ``ResponseError`` from the server.
    """
    match = _STREAM_ID.fullmatch(value)
    return match is not None and all(int(part) <= _U64_MAX for part in match.groups())
