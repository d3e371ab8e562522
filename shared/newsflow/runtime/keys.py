"""Publisher API keys: created once, stored hashed, checked in constant time.

A key looks like ``nfk_<id>_<secret>``. Only the id and a SHA-256 of the secret
are stored (the secret has 256 bits of entropy, so a fast hash is safe); the
whole key is shown once, at creation. Each key names its publisher, which the
gateway records as the item's ``source``, and carries scopes:

- ``publish``: POST items;
- ``read``: GET endpoints, when reading is configured to need a key;
- ``admin``: dead letters and re-enrichment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pymongo.collection import Collection

API_KEYS: Final = "api_keys"
Scope = Literal["publish", "read", "admin"]
SCOPES: Final[tuple[Scope, ...]] = ("publish", "read", "admin")
_KEY = re.compile(r"^nfk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
PUBLISHER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    publisher: str
    scopes: frozenset[str]
    revoked: bool = False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(publisher: str, scopes: list[str]) -> tuple[str, dict[str, Any]]:
    """A fresh key and the document to store for it."""
    if not PUBLISHER.match(publisher):
        raise ValueError("publisher: letters, digits, space, '.', '_' or '-', at most 100")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {scopes}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    doc = {
        "_id": key_id,
        "hash": _digest(secret),
        "publisher": publisher,
        "scopes": sorted(set(scopes)),
        "created_at": datetime.now(UTC),
        "revoked_at": None,
    }
    return f"nfk_{key_id}_{secret}", doc


def parse_key(presented: str) -> tuple[str, str] | None:
    match = _KEY.match(presented)
    return (match.group(1), match.group(2)) if match else None


def verify(doc: dict[str, Any] | None, secret: str) -> ApiKey | None:
    """The key if ``secret`` matches ``doc`` and it is not revoked. Constant time."""
    expected = doc["hash"] if doc else _digest("")
    ok = hmac.compare_digest(expected, _digest(secret))
    if not doc or not ok or doc.get("revoked_at"):
        return None
    return ApiKey(doc["_id"], doc["publisher"], frozenset(doc["scopes"]))


def create(col: Collection[dict[str, Any]], publisher: str, scopes: list[str]) -> str:
    key, doc = new_key(publisher, scopes)
    col.insert_one(doc)
    return key


def list_keys(col: Collection[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(col.find({}, {"hash": 0}).sort("created_at", 1))


def revoke(col: Collection[dict[str, Any]], key_id: str) -> bool:
    result = col.update_one(
        {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": datetime.now(UTC)}}
    )
    return result.modified_count == 1
