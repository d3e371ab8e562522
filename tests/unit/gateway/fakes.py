"""In-memory stand-ins for the gateway's clients: fakeredis for Redis, and a small
MongoDB fake that answers the few queries the gateway makes (by id, ``$in``,
comparisons, ``$and``/``$or``, sort and limit). An operator it does not know
raises, so a test never passes on a query the fake silently ignored."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable
from typing import Any

import fakeredis

from newsflow_gateway.app import GatewayClients
from newsflow_gateway.settings import GatewaySettings

_COMPARE = {
    "$lt": lambda a, b: a is not None and a < b,
    "$lte": lambda a, b: a is not None and a <= b,
    "$gt": lambda a, b: a is not None and a > b,
    "$gte": lambda a, b: a is not None and a >= b,
}


def _values(doc: dict[str, Any], field: str) -> list[Any]:
    value = doc.get(field)
    return value if isinstance(value, list) else [value]


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, cond in query.items():
        if key == "$and":
            ok = all(matches(doc, q) for q in cond)
        elif key == "$or":
            ok = any(matches(doc, q) for q in cond)
        elif key.startswith("$"):
            raise NotImplementedError(f"fake MongoDB: {key}")
        elif isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            ok = all(_operator(doc, key, op, arg) for op, arg in cond.items())
        else:
            ok = cond in _values(doc, key)
        if not ok:
            return False
    return True


def _operator(doc: dict[str, Any], field: str, op: str, arg: Any) -> bool:
    values = _values(doc, field)
    if op == "$in":
        return any(v in arg for v in values)
    if op == "$nin":
        return not any(v in arg for v in values)
    if op == "$all":
        return all(a in values for a in arg)
    if op in _COMPARE:
        return _COMPARE[op](doc.get(field), arg)
    raise NotImplementedError(f"fake MongoDB: {op}")


class FakeCursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self._docs = docs

    def sort(self, keys: list[tuple[str, int]]) -> FakeCursor:  # the list form only
        for field, direction in reversed(keys):
            self._docs.sort(key=lambda d: d[field], reverse=direction < 0)
        return self

    def batch_size(self, n: int) -> FakeCursor:
        return self

    def limit(self, n: int) -> FakeCursor:
        self._docs = self._docs[:n]
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return self._docs[:length] if length else list(self._docs)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in self._docs:
            yield doc


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[Any, dict[str, Any]] = {}

    def _find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [copy.deepcopy(d) for d in self.docs.values() if matches(d, query)]

    async def find_one(self, query: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any] | None:
        found = self._find(query)
        return found[0] if found else None

    def find(self, query: dict[str, Any], *_: Any, **__: Any) -> FakeCursor:
        return FakeCursor(self._find(query))

    async def count_documents(self, query: dict[str, Any], **_: Any) -> int:
        return len(self._find(query))

    async def estimated_document_count(self, **_: Any) -> int:
        return len(self.docs)

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def create_indexes(self, indexes: Iterable[Any]) -> list[str]:
        return []


class FakeDatabase:
    def __init__(self) -> None:
        self.collections: dict[str, FakeCollection] = {}
        self.down = False

    def __getitem__(self, name: str) -> FakeCollection:
        return self.collections.setdefault(name, FakeCollection())

    async def command(self, name: str) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("fake MongoDB is down")
        return {"ok": 1}


class FakeMongo:
    def __init__(self) -> None:
        self.admin = FakeDatabase()
        self.db = FakeDatabase()
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class Fakes:
    """What a test reaches into: the fake clients the app was given."""

    def __init__(self) -> None:
        self.mongo = FakeMongo()
        self.redis = fakeredis.FakeAsyncRedis()

    def clients(self, settings: GatewaySettings) -> GatewayClients:
        return GatewayClients(self.mongo, self.mongo.db, self.redis)  # type: ignore[arg-type]
