"""A publisher's ``idempotency_key``: where it is remembered, and what a reuse means.

Ingest remembers each key it accepts, per source, for the idempotency window, with
the *fingerprint* of the item it was given: the story id and a hash of the
normalised content (receive times excluded). Another item with the same key is then
either a true repeat (same fingerprint: acknowledged, not published again) or a
conflict (different content: rejected, naming the key). The gateway reads the same
keys to answer a conflict with 409 before accepting; ingest stays the final judge,
since two different items with one key can be in flight at once.

The stored value is ``<fingerprint> <entry id>``: the entry id tells the entry that
claimed the key from a repeat of it, so an entry redelivered after a crash between
the claim and the publish is still published. Values written before fingerprints
(a bare entry id) read as "seen, content unknown" and are treated as repeats, as
they always were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

import orjson
from redis.asyncio import Redis

from newsflow.domain.items import NewsItem
from newsflow.domain.text import identity_key

PREFIX: Final = "newsflow:idem:ingest:"
CONFLICT_MESSAGE: Final = "already used for a different story within the idempotency window"
_VERSION: Final = "v1"


class Verdict(Enum):
    NEW = "new"  # no other item holds the key: publish (this entry's own claim included)
    REPEAT = "repeat"  # the same content again: acknowledge, do not publish
    CONFLICT = "conflict"  # the key holds a different story: reject


def redis_key(source: str | None, key: str) -> str:
    """Where ``key`` is remembered: per source (case- and accent-folded), hashed."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{PREFIX}{identity_key(source or '')}:{digest}"


def item_key(item: NewsItem) -> str | None:
    """The Redis key for ``item``'s idempotency key, or None when it has none."""
    return redis_key(item.source, item.idempotency_key) if item.idempotency_key else None


def fingerprint(item: NewsItem) -> str:
    """The story id and a hash of the normalised content, without receive times."""
    content = orjson.dumps(
        item.model_dump(mode="json", exclude={"received_at"}), option=orjson.OPT_SORT_KEYS
    )
    return f"{_VERSION}:{item.id}:{hashlib.sha256(content).hexdigest()[:32]}"


def claim_value(item: NewsItem, entry_id: str) -> str:
    return f"{fingerprint(item)} {entry_id}"


@dataclass(frozen=True)
class Remembered:
    """What a stored value says: the fingerprint (None if written before them) and entry."""

    fingerprint: str | None
    entry_id: str

    @classmethod
    def parse(cls, value: bytes | str) -> Remembered:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        head, _, entry_id = text.partition(" ")
        if head.startswith(f"{_VERSION}:") and entry_id:
            return cls(head, entry_id)
        return cls(None, text)

    @property
    def story_id(self) -> str | None:
        return self.fingerprint.split(":")[1] if self.fingerprint else None


def verdict(item: NewsItem, stored: Remembered | None, entry_id: str | None = None) -> Verdict:
    """What ``item`` (arriving as ``entry_id``, if it has one yet) is, given what is stored."""
    if stored is None:
        return Verdict.NEW
    if stored.fingerprint is None:
        return Verdict.NEW if stored.entry_id == entry_id else Verdict.REPEAT
    if stored.fingerprint != fingerprint(item):
        return Verdict.CONFLICT
    return Verdict.NEW if stored.entry_id == entry_id else Verdict.REPEAT


async def recall(redis: Redis, keys: Sequence[str]) -> dict[str, Remembered]:
    """What is remembered under each of ``keys`` (absent keys are left out)."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    values = await redis.mget(unique)
    return {k: Remembered.parse(v) for k, v in zip(unique, values, strict=True) if v is not None}


async def claim(redis: Redis, claims: Mapping[str, str], ttl_s: int) -> dict[str, Remembered]:
    """Claim each free key (SET NX with the TTL); return what every key now holds.

    A key another item holds keeps its value, and that value is returned, so one
    pass decides every entry of a batch whatever else runs at the same time.
    """
    if not claims:
        return {}
    pipe = redis.pipeline(transaction=False)
    for key, value in claims.items():
        pipe.set(key, value, nx=True, ex=ttl_s)
    won = await pipe.execute()
    held = {k: Remembered.parse(v) for (k, v), ok in zip(claims.items(), won, strict=True) if ok}
    others = await recall(redis, [k for k in claims if k not in held])
    for key in claims:  # expired between SET NX and GET: nobody holds it, count it as ours
        if key not in held and key not in others:
            held[key] = Remembered.parse(claims[key])
    return {**held, **others}
