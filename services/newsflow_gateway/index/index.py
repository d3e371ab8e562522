"""The gateway's search index: a Tantivy index in a folder, following ``news:stored``.

MongoDB is the record; this index is derived state the gateway can always rebuild.

**Writing.** :meth:`SearchIndex.apply` stages upserts (delete by id, then add, so
applying a story twice leaves one copy); :meth:`SearchIndex.commit` commits them and
*then* records the last applied ``news:stored`` entry id in a sidecar file
(``newsflow-index.json``, written to a temporary file, fsynced and renamed). A crash
between the two leaves an older position: the entries after it are applied again
on restart, which is harmless because applying is idempotent. The writer (and
Tantivy's lock file) is taken on the first write, so read-only users of the same
folder never hold it.

**Staleness.** The sidecar also records the schema/analysis fingerprint the index was
built with. Opening an index with another fingerprint raises :class:`StaleIndexError`;
an index that cannot be opened or read, or has no sidecar, raises
:class:`DamagedIndexError`. Both are :class:`IndexUnusableError`: the caller rebuilds
with :meth:`SearchIndex.create` (``replace=True``).

**Paging.** ``newest`` and ``oldest`` page by keyset over the total order
(``sort_key``, ``id``): the cursor holds the last hit's key and id, and the next page
is what lies strictly beyond it. Stories added or changed between pages appear on a
later page if they sort after the cursor and are otherwise not shown; no story is
shown twice and none of those present throughout is skipped. ``relevance`` pages by
offset into the current ranking (at most :data:`MAX_RELEVANCE_OFFSET`): while stories
arrive, scores and ranks move, so a later page may repeat or miss a hit near its
boundary. It is exact only while the index does not change. ``relevance`` without a
text query falls back to ``newest``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import orjson
import tantivy

from newsflow_gateway.index import analysis
from newsflow_gateway.index.query import CompiledQuery, ParsedQuery, compile_query
from newsflow_gateway.index.schema import (
    KEYWORD_FIELDS,
    IndexDocError,
    build_schema,
    fingerprint,
    indexable,
    text_field,
    to_index_doc,
    version_of,
)

log = logging.getLogger("newsflow.gateway.index")

SIDECAR: Final = "newsflow-index.json"
MAX_LIMIT: Final = 500
MAX_RELEVANCE_OFFSET: Final = 10_000
#: Facet buckets per kind; counts are exact while a kind has fewer distinct values.
FACET_SIZE: Final = 1_000
#: Characters of body text around the best match in a highlight.
BODY_SNIPPET_CHARS: Final = 240
_WHOLE_TEXT: Final = 100_000
_TIE_FETCH: Final = 1_000

Sort = Literal["newest", "oldest", "relevance"]
FacetKind = Literal["topics", "offices", "countries", "content_types", "months"]
FACET_FIELDS: Final[dict[FacetKind, str]] = {
    "topics": "topic_ids",
    "offices": "office_ids",
    "countries": "country_ids",
    "content_types": "content_type_id",
    "months": "month",
}


class IndexUnusableError(RuntimeError):
    """The index folder cannot be used as it is: rebuild it."""


class StaleIndexError(IndexUnusableError):
    """Built with another schema or analysis (fingerprint mismatch)."""


class DamagedIndexError(IndexUnusableError):
    """Unreadable, or missing the sidecar that records its fingerprint and position."""


class CursorError(ValueError):
    """A cursor that this index did not make, or made for another sort."""


class FilterSpec(Protocol):
    """The filters a search takes: values within one filter OR-ed, filters AND-ed.

    The gateway's ``search.query.Filters`` has this shape already.
    """

    @property
    def topic(self) -> Sequence[str]: ...
    @property
    def office(self) -> Sequence[str]: ...
    @property
    def country(self) -> Sequence[str]: ...
    @property
    def content_type(self) -> Sequence[str]: ...
    @property
    def language(self) -> Sequence[str]: ...
    @property
    def date_from(self) -> datetime | None: ...
    @property
    def date_to(self) -> datetime | None: ...


@dataclass(frozen=True)
class SearchFilters:
    """A plain :class:`FilterSpec` (tests, the benchmark)."""

    topic: Sequence[str] = ()
    office: Sequence[str] = ()
    country: Sequence[str] = ()
    content_type: Sequence[str] = ()
    language: Sequence[str] = ()
    date_from: datetime | None = None
    date_to: datetime | None = None


NO_FILTERS: Final = SearchFilters()


@dataclass(frozen=True)
class Highlight:
    """A snippet of one field and where the query matched in it.

    ``matches`` are ``(start, end)`` character offsets into ``text`` (Python string
    indices, code points); ``start`` is where ``text`` begins in the whole field.
    ``text`` is plain text: a client marks the matches itself, no HTML involved.
    """

    text: str
    matches: list[tuple[int, int]]
    start: int = 0


@dataclass(frozen=True)
class SearchHit:
    id: str
    document: dict[str, Any]  # the stored payload: title, summary, tags, dates as ISO text
    score: float | None = None
    highlights: dict[str, Highlight] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # exact number of matching stories, whatever the page
    next_cursor: str | None


@dataclass(frozen=True)
class FacetBucket:
    key: str
    count: int


@dataclass(frozen=True)
class _Row:
    key: int
    id: str
    address: tantivy.DocAddress


def _count(result: tantivy.SearchResult) -> int:
    """The exact hit count (the bindings' stub omits the attribute)."""
    return int(result.count)  # type: ignore[attr-defined]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise CursorError("cursor is not one this API made") from exc
    if not isinstance(value, dict) or value.get("s") != sort:
        raise CursorError(f"cursor was not made for sort={sort}")
    if sort == "relevance":
        offset = value.get("o")
        if not isinstance(offset, int) or not 0 < offset <= MAX_RELEVANCE_OFFSET:
            raise CursorError("cursor offset out of range")
    elif not (
        isinstance(value.get("k"), int)
        and not isinstance(value.get("k"), bool)
        and -(2**63) <= value["k"] < 2**63
        and isinstance(value.get("i"), str)
    ):
        raise CursorError("cursor is not one this API made")
    return value


class SearchIndex:
    """One index folder: write with :meth:`apply` + :meth:`commit`, read with :meth:`search`."""

    def __init__(self, path: Path, index: tantivy.Index, *, writer_heap: int) -> None:
        self.path = path
        self._index = index
        self._schema = build_schema()
        self._writer: tantivy.IndexWriter | None = None
        self._writer_heap = writer_heap

    # --- opening ----------------------------------------------------------------

    @classmethod
    def open_or_create(cls, path: str | Path, *, writer_heap: int = 64_000_000) -> SearchIndex:
        """Open the index at ``path``, creating it if there is none.

        Raises :class:`StaleIndexError` or :class:`DamagedIndexError` when an index is
        there but unusable; the caller then rebuilds with ``create(path, replace=True)``.
        """
        folder = Path(path)
        if not (folder / "meta.json").exists():
            # Nothing, or what a crash during create() left: our sidecar alone.
            return cls.create(folder, replace=True, writer_heap=writer_heap)
        return cls.open(folder, writer_heap=writer_heap)

    @classmethod
    def open(cls, path: str | Path, *, writer_heap: int = 64_000_000) -> SearchIndex:
        folder = Path(path)
        try:
            state = orjson.loads((folder / SIDECAR).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise DamagedIndexError(f"{folder}: no readable {SIDECAR}: {exc}") from exc
        if not isinstance(state, dict) or state.get("fingerprint") != fingerprint():
            found = state.get("fingerprint") if isinstance(state, dict) else None
            raise StaleIndexError(f"{folder}: built as {found}, this version needs {fingerprint()}")
        try:
            index = tantivy.Index.open(str(folder))
            analysis.register(index)
            index.searcher().search(tantivy.Query.all_query(), 1)
        except (ValueError, OSError) as exc:
            raise DamagedIndexError(f"{folder}: cannot read the index: {exc}") from exc
        return cls(folder, index, writer_heap=writer_heap)

    @classmethod
    def create(
        cls, path: str | Path, *, replace: bool = False, writer_heap: int = 64_000_000
    ) -> SearchIndex:
        """A new empty index at ``path``; ``replace`` first removes an index found there."""
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()):
            ours = (folder / "meta.json").exists() or (folder / SIDECAR).exists()
            if not (replace and ours):
                raise FileExistsError(f"{folder} is not empty")
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(build_schema(), path=str(folder), reuse=False)
        analysis.register(index)
        _write_atomically(
            folder / SIDECAR, orjson.dumps({"fingerprint": fingerprint(), "position": None})
        )
        return cls(folder, index, writer_heap=writer_heap)

    # --- writing ----------------------------------------------------------------

    def _writer_or_open(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._index.writer(self._writer_heap, 1)
        return self._writer

    def lock(self) -> None:
        """Take the writer (and Tantivy's lock file) now, so that a folder another
        process writes fails at start (``ValueError`` naming ``LockBusy``)."""
        self._writer_or_open()

    def apply(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Stage an upsert of each stored story (visible after :meth:`commit`).

        A story that cannot be indexed (no id or time) is skipped and logged: one bad
        document must not stop the follower. Returns how many were staged.
        """
        writer = self._writer_or_open()
        n = 0
        for doc in docs:
            try:
                indexed = to_index_doc(doc)
            except IndexDocError as exc:
                log.warning("search index: skipping a story: %s", exc)
                continue
            writer.delete_documents_by_term("id", indexed.get_first("id"))
            writer.add_document(indexed)
            n += 1
        return n

    def apply_newest(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """:meth:`apply` for the stories that are not older than what the index holds.

        Announcements can arrive out of order (two storage replicas, or a rebuild read
        from MongoDB racing the log): of several versions of a story, within the batch
        and against the committed index, the highest ``_v`` wins; an equal one is
        applied again, which changes nothing.
        """
        newest: dict[str, Mapping[str, Any]] = {}
        for doc in docs:
            story_id = doc.get("_id")
            if not isinstance(story_id, str):
                newest[f"\0bad{len(newest)}"] = doc  # apply() logs and skips it
                continue
            held = newest.get(story_id)
            if held is None or version_of(doc) >= version_of(held):
                newest[story_id] = doc
        indexed = self.versions([k for k in newest if not k.startswith("\0")])
        return self.apply(
            doc for key, doc in newest.items() if version_of(doc) >= indexed.get(key, -1)
        )

    def delete(self, ids: Iterable[str]) -> None:
        """Stage the removal of stories by id."""
        writer = self._writer_or_open()
        for story_id in ids:
            writer.delete_documents_by_term("id", story_id)

    def commit(self, position: str | None, *, rebuild: Mapping[str, Any] | None = None) -> None:
        """Commit staged changes, then record ``position`` (the last applied entry id)
        and, while a rebuild runs, how far it got (``rebuild``).

        The sidecar is written only after Tantivy's commit succeeded; if the commit
        fails, staged changes are rolled back and the recorded state is unchanged.
        """
        writer = self._writer_or_open()
        try:
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        # Searches see the commit before the position says it is there: whoever reads
        # position P (a live client, a test, /readyz) finds everything up to P.
        self._index.reload()
        state: dict[str, Any] = {"fingerprint": fingerprint(), "position": position}
        if rebuild is not None:
            state["rebuild"] = dict(rebuild)
        _write_atomically(self.path / SIDECAR, orjson.dumps(state))

    def _sidecar(self) -> dict[str, Any]:
        state = orjson.loads((self.path / SIDECAR).read_bytes())
        return state if isinstance(state, dict) else {}

    def rebuild_state(self) -> dict[str, Any] | None:
        """What an unfinished rebuild recorded at its last commit, or None."""
        value = self._sidecar().get("rebuild")
        return value if isinstance(value, dict) else None

    def position(self) -> str | None:
        """The last ``news:stored`` entry id whose effect is committed, or None."""
        value = self._sidecar().get("position")
        return value if isinstance(value, str) else None

    def refresh(self) -> None:
        """See commits made by another process since this one opened the index."""
        self._index.reload()

    def close(self) -> None:
        """Release the writer (and its lock). Staged, uncommitted changes are dropped."""
        if self._writer is not None:
            self._writer.rollback()
            self._writer.wait_merging_threads()
            self._writer = None

    # --- reading ----------------------------------------------------------------

    def num_docs(self) -> int:
        return self._index.searcher().num_docs

    def _ids_query(self, ids: Sequence[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self._schema, "id", list(ids))

    def versions(self, ids: Sequence[str]) -> dict[str, int]:
        """The committed ``_v`` of each of ``ids`` the index holds."""
        if not ids:
            return {}
        searcher = self._index.searcher()
        result = searcher.search(self._ids_query(ids), len(ids))
        out: dict[str, int] = {}
        for _, address in result.hits:
            doc = searcher.doc(address)
            out[str(doc.get_first("id"))] = int(doc.get_first("version") or 0)
        return out

    def count(self, query: ParsedQuery | None = None, filters: FilterSpec = NO_FILTERS) -> int:
        """How many stories match."""
        searcher = self._index.searcher()
        compiled = self.compile(query, searcher) if query is not None else None
        return _count(searcher.search(self._base(compiled, filters), 1, count=True))

    def matching(
        self,
        ids: Sequence[str],
        query: ParsedQuery | None = None,
        filters: FilterSpec = NO_FILTERS,
    ) -> list[SearchHit]:
        """Which of the stories ``ids`` match ``query`` and ``filters`` (the live feed's
        test, run by the same engine as searches, so both agree), in ``ids`` order."""
        if not ids:
            return []
        searcher = self._index.searcher()
        compiled = self.compile(query, searcher) if query is not None else None
        q = self._and(self._base(compiled, filters), self._ids_query(ids))
        result = searcher.search(q, len(ids))
        page: list[tuple[float | None, tantivy.DocAddress]] = [(None, a) for _, a in result.hits]
        hits = {h.id: h for h in self._hits(searcher, page, compiled)}
        return [hits[i] for i in dict.fromkeys(ids) if i in hits]

    def compile(
        self, query: ParsedQuery, searcher: tantivy.Searcher | None = None
    ) -> CompiledQuery:
        """``query`` as Tantivy queries, prefixes expanded against this index."""
        s = searcher or self._index.searcher()

        def expand(name: str, prefix: str, limit: int) -> list[str]:
            return [t for t, _ in s.terms_with_prefix(name, prefix, limit=limit)]

        return compile_query(query, self._schema, expand)

    def _filter_clauses(self, filters: FilterSpec) -> list[tantivy.Query]:
        clauses: list[tantivy.Query] = []
        for name, values in (
            ("topic_ids", filters.topic),
            ("office_ids", filters.office),
            ("country_ids", filters.country),
            ("content_type_id", filters.content_type),
            ("language", filters.language),
        ):
            if values:
                clauses.append(tantivy.Query.term_set_query(self._schema, name, list(values)))
        if filters.date_from or filters.date_to:
            clauses.append(
                tantivy.Query.range_query(
                    self._schema,
                    "sort_at",
                    tantivy.FieldType.Date,
                    indexable(filters.date_from) if filters.date_from else tantivy.MIN_DATETIME,
                    indexable(filters.date_to) if filters.date_to else tantivy.MAX_DATETIME,
                )
            )
        return clauses

    def _base(self, compiled: CompiledQuery | None, filters: FilterSpec) -> tantivy.Query:
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0))
            for q in self._filter_clauses(filters)
        ]
        if compiled is not None:
            clauses.insert(0, (tantivy.Occur.Must, compiled.search))
        if not clauses:
            return tantivy.Query.all_query()
        if len(clauses) == 1 and compiled is not None:
            return compiled.search
        return tantivy.Query.boolean_query(clauses)

    def search(
        self,
        query: ParsedQuery | None = None,
        filters: FilterSpec = NO_FILTERS,
        *,
        sort: Sort = "newest",
        limit: int = 20,
        cursor: str | None = None,
        highlights: bool = True,
        with_body: bool = False,
    ) -> SearchPage:
        """One page of stories matching ``query`` and ``filters``, with the exact total."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        if sort == "relevance" and query is None:
            sort = "newest"
        searcher = self._index.searcher()
        compiled = self.compile(query, searcher) if query is not None else None
        base = self._base(compiled, filters)
        if sort == "relevance":
            page, total, next_cursor = self._relevance(searcher, base, limit, cursor)
        else:
            page, total, next_cursor = self._keyset(searcher, base, sort, limit, cursor)
        hits = self._hits(searcher, page, compiled if highlights else None, with_body=with_body)
        return SearchPage(hits, total, next_cursor)

    def _relevance(
        self, searcher: tantivy.Searcher, base: tantivy.Query, limit: int, cursor: str | None
    ) -> tuple[list[tuple[float | None, tantivy.DocAddress]], int, str | None]:
        offset = _decode_cursor(cursor, "relevance")["o"] if cursor else 0
        result = searcher.search(base, limit + 1, count=True, offset=offset)
        hits = [(float(score), address) for score, address in result.hits]
        more = len(hits) > limit and offset + limit < MAX_RELEVANCE_OFFSET
        nxt = _encode_cursor({"s": "relevance", "o": offset + limit}) if more else None
        return list(hits[:limit]), _count(result), nxt

    def _rows(
        self,
        searcher: tantivy.Searcher,
        q: tantivy.Query,
        n: int,
        order: tantivy.Order,
        *,
        count: bool = False,
    ) -> tuple[list[_Row], int]:
        result = searcher.search(q, n, count=count, order_by_field="sort_key", order=order)
        hits = result.hits
        ids = [searcher.doc(a).get_first("id") for _, a in hits]
        rows = [_Row(int(k), str(i), a) for (k, a), i in zip(hits, ids, strict=True)]
        return rows, _count(result) if count else 0

    def _key_range(self, lower: int | None, upper: int | None, include: bool) -> tantivy.Query:
        """``sort_key`` between the bounds (an open side is unbounded)."""
        return tantivy.Query.range_query(
            self._schema,
            "sort_key",
            tantivy.FieldType.Integer,
            lower,
            upper,
            include_lower=include or lower is None,
            include_upper=include or upper is None,
        )

    def _and(self, a: tantivy.Query, b: tantivy.Query) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, a), (tantivy.Occur.Must, b)])

    def _keyset(
        self,
        searcher: tantivy.Searcher,
        base: tantivy.Query,
        sort: Sort,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[tuple[float | None, tantivy.DocAddress]], int, str | None]:
        """A page in (sort_key, id) order, strictly after the cursor.

        Tantivy orders by ``sort_key`` alone; stories with equal keys (the same second
        and the same id hash: rare) are fetched as a whole group and ordered by id.
        """
        desc = sort == "newest"
        order = tantivy.Order.Desc if desc else tantivy.Order.Asc

        def ordered(rows: list[_Row]) -> list[_Row]:
            return sorted(rows, key=lambda r: (r.key, r.id), reverse=desc)

        def group(key: int) -> list[_Row]:
            exact = self._and(base, self._key_range(key, key, True))
            return ordered(self._rows(searcher, exact, _TIE_FETCH, order)[0])

        rows: list[_Row] = []
        q = base
        if cursor:
            c = _decode_cursor(cursor, sort)
            ckey, cid = c["k"], c["i"]
            total = _count(searcher.search(base, 1, count=True))
            # The rest of the cursor's own key group, then what lies beyond its key.
            rows = [r for r in group(ckey) if (r.id < cid if desc else r.id > cid)]
            beyond = (
                self._key_range(None, ckey, False) if desc else self._key_range(ckey, None, False)
            )
            q = self._and(base, beyond)
            fetched, _ = self._rows(searcher, q, limit + 1, order)
        else:
            fetched, total = self._rows(searcher, q, limit + 1, order, count=True)
        fetched = ordered(fetched)
        combined = rows + fetched
        if len(combined) > limit and combined[limit - 1].key == combined[limit].key:
            # The page ends inside a group of equal keys that Tantivy may have cut
            # anywhere: take that group whole, ordered by id.
            k = combined[limit].key
            combined = rows + [r for r in fetched if r.key != k] + group(k)
        page = combined[:limit]
        nxt = None
        if len(combined) > limit:
            last = page[-1]
            nxt = _encode_cursor({"s": sort, "k": last.key, "i": last.id})
        return [(None, r.address) for r in page], total, nxt

    def _hits(
        self,
        searcher: tantivy.Searcher,
        page: list[tuple[float | None, tantivy.DocAddress]],
        compiled: CompiledQuery | None,
        *,
        with_body: bool = False,
    ) -> list[SearchHit]:
        generators: dict[str, tantivy.SnippetGenerator | None] = {}

        def generator(name: str, chars: int) -> tantivy.SnippetGenerator | None:
            if name not in generators:
                parts = compiled.highlight.get(name) if compiled else None
                if not parts:
                    generators[name] = None
                else:
                    q = tantivy.Query.boolean_query([(tantivy.Occur.Should, p) for p in parts])
                    g = tantivy.SnippetGenerator.create(searcher, q, self._schema, name)
                    g.set_max_num_chars(chars)
                    generators[name] = g
            return generators[name]

        out: list[SearchHit] = []
        for score, address in page:
            stored = searcher.doc(address)
            payload = orjson.loads(bytes(stored.get_first("payload") or b"{}"))
            story_id = str(stored.get_first("id"))
            lights: dict[str, Highlight] = {}
            code = str(stored.get_first("analyzer") or analysis.DEFAULT_CODE)
            body = str(stored.get_first(text_field("body", code)) or "")
            if with_body:
                payload["body"] = body or None
            if compiled is not None:
                texts = {
                    "title": payload.get("title") or "",
                    "summary": payload.get("summary") or "",
                    "body": body,
                }
                for source, text in texts.items():
                    name = text_field(source, code)
                    chars = BODY_SNIPPET_CHARS if source == "body" else _WHOLE_TEXT
                    gen = generator(name, chars)
                    light = _highlight(gen, name, text) if gen and text else None
                    if light is not None:
                        lights[source] = light
            out.append(SearchHit(story_id, payload, score, lights))
        return out

    # --- facets -----------------------------------------------------------------

    def facets(
        self, query: ParsedQuery | None = None, filters: FilterSpec = NO_FILTERS
    ) -> dict[FacetKind, list[FacetBucket]]:
        """Counts per topic, office, country, content type and month of the matches.

        Taxonomy kinds come most frequent first; months newest first.
        """
        searcher = self._index.searcher()
        compiled = self.compile(query, searcher) if query is not None else None
        base = self._base(compiled, filters)
        spec = {
            kind: {"terms": {"field": name, "size": FACET_SIZE, "segment_size": FACET_SIZE}}
            for kind, name in FACET_FIELDS.items()
        }
        result = searcher.aggregate(base, spec)
        out: dict[FacetKind, list[FacetBucket]] = {}
        for kind in FACET_FIELDS:
            buckets = [
                FacetBucket(str(b["key"]), int(b["doc_count"]))
                for b in result.get(kind, {}).get("buckets", [])
            ]
            if kind == "months":
                buckets.sort(key=lambda b: b.key, reverse=True)
            out[kind] = buckets
        return out


def _highlight(gen: tantivy.SnippetGenerator, name: str, text: str) -> Highlight | None:
    """Tantivy's snippet with its byte ranges turned into character offsets."""
    doc = tantivy.Document()
    doc.add_text(name, text)
    snippet = gen.snippet_from_doc(doc)
    ranges = snippet.highlighted()
    if not ranges:
        return None
    fragment = snippet.fragment()
    raw = fragment.encode()

    def chars(byte_offset: int) -> int:
        return len(raw[:byte_offset].decode("utf-8", errors="ignore"))

    start = len(text.encode()[: snippet.fragment_range().start].decode("utf-8", errors="ignore"))
    return Highlight(fragment, [(chars(r.start), chars(r.end)) for r in ranges], start)


__all__ = [
    "FACET_FIELDS",
    "KEYWORD_FIELDS",
    "CursorError",
    "DamagedIndexError",
    "FacetBucket",
    "FilterSpec",
    "Highlight",
    "IndexUnusableError",
    "SearchFilters",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "StaleIndexError",
]
