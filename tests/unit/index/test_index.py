"""SearchIndex: upserts, positions, staleness, keyset paging, counts, facets, highlights."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from newsflow_gateway.index import schema
from newsflow_gateway.index.index import (
    SIDECAR,
    CursorError,
    DamagedIndexError,
    SearchFilters,
    SearchIndex,
    StaleIndexError,
)
from newsflow_gateway.index.query import parse

from .conftest import Story, make_story

DAY = datetime(2024, 3, 1, tzinfo=UTC)


def all_ids(index: SearchIndex) -> list[str]:
    return [h.id for h in index.search(limit=500).hits]


# --- writing and positions ----------------------------------------------------------


def test_apply_is_an_idempotent_upsert(index: SearchIndex, story: Story) -> None:
    index.apply([story("a", "First title"), story("b", "Other")])
    index.commit("1-0")
    index.apply([story("a", "Second title")])
    index.apply([story("a", "Third title")])  # twice in one batch: the last wins
    index.commit("2-0")
    index.apply([story("a", "Third title")])  # a replay changes nothing
    index.commit("2-0")
    assert sorted(all_ids(index)) == ["a", "b"]
    assert index.num_docs() == 2
    page = index.search(parse("title"))
    assert [h.document["title"] for h in page.hits] == ["Third title"]
    assert index.search(parse("first")).total == 0


def test_delete_removes_by_id(index: SearchIndex, story: Story) -> None:
    index.apply([story("a"), story("b")])
    index.commit("1-0")
    index.delete(["a"])
    index.commit("2-0")
    assert all_ids(index) == ["b"]


def test_nothing_is_visible_or_recorded_before_commit(index: SearchIndex, story: Story) -> None:
    index.apply([story("a")])
    assert index.search().total == 0
    assert index.position() is None
    index.commit("5-1")
    assert index.search().total == 1
    assert index.position() == "5-1"


def test_position_and_documents_survive_reopen(tmp_path: Path, story: Story) -> None:
    ix = SearchIndex.open_or_create(tmp_path / "ix")
    ix.apply([story("a"), story("b")])
    ix.commit("1700000000000-3")
    ix.apply([story("c")])  # staged, never committed: lost, and the position says so
    ix.close()
    again = SearchIndex.open_or_create(tmp_path / "ix")
    assert again.position() == "1700000000000-3"
    assert sorted(all_ids(again)) == ["a", "b"]
    sidecar = orjson.loads((tmp_path / "ix" / SIDECAR).read_bytes())
    assert sidecar == {"fingerprint": schema.fingerprint(), "position": "1700000000000-3"}
    assert not list((tmp_path / "ix").glob("*.tmp"))
    again.close()


def test_a_reader_sees_commits_after_refresh(tmp_path: Path, story: Story) -> None:
    writer = SearchIndex.open_or_create(tmp_path / "ix")
    reader = SearchIndex.open(tmp_path / "ix")
    writer.apply([story("a")])
    writer.commit("1-0")
    reader.refresh()
    assert all_ids(reader) == ["a"]
    assert reader.position() == "1-0"
    writer.close()


def test_stale_fingerprint_is_detected(tmp_path: Path, story: Story) -> None:
    ix = SearchIndex.open_or_create(tmp_path / "ix")
    ix.apply([story("a")])
    ix.commit("1-0")
    ix.close()
    path = tmp_path / "ix" / SIDECAR
    path.write_bytes(orjson.dumps({"fingerprint": "built-by-an-older-version", "position": "1-0"}))
    with pytest.raises(StaleIndexError, match="built-by-an-older-version"):
        SearchIndex.open_or_create(tmp_path / "ix")
    fresh = SearchIndex.create(tmp_path / "ix", replace=True)
    assert fresh.position() is None
    assert fresh.search().total == 0
    fresh.close()


def test_missing_sidecar_or_unreadable_index_is_damaged(tmp_path: Path, story: Story) -> None:
    ix = SearchIndex.open_or_create(tmp_path / "ix")
    ix.apply([story("a")])
    ix.commit("1-0")
    ix.close()
    (tmp_path / "ix" / SIDECAR).unlink()
    with pytest.raises(DamagedIndexError):
        SearchIndex.open_or_create(tmp_path / "ix")

    ix = SearchIndex.create(tmp_path / "ix", replace=True)
    ix.apply([story("a")])
    ix.commit("1-0")
    ix.close()
    (tmp_path / "ix" / "meta.json").write_text("{ not json")
    with pytest.raises(DamagedIndexError):
        SearchIndex.open_or_create(tmp_path / "ix")


def test_a_create_interrupted_before_the_index_existed_is_redone(tmp_path: Path) -> None:
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / SIDECAR).write_bytes(orjson.dumps({"fingerprint": "x", "position": None}))
    ix = SearchIndex.open_or_create(tmp_path / "ix")
    assert ix.position() is None
    assert ix.search().total == 0
    ix.close()


def test_create_refuses_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        SearchIndex.create(tmp_path / "other", replace=True)
    with pytest.raises(FileExistsError):
        SearchIndex.open_or_create(tmp_path / "other")
    assert (tmp_path / "other" / "keep.txt").exists()


def test_story_without_id_or_time_is_refused(index: SearchIndex) -> None:
    doc = make_story("a")
    with pytest.raises(schema.IndexDocError):
        schema.to_index_doc({**doc, "_id": None})
    with pytest.raises(schema.IndexDocError):
        schema.to_index_doc({**doc, "sort_at": None, "published_at": None})


def test_a_bad_story_is_skipped_and_the_rest_applied(index: SearchIndex) -> None:
    """One unindexable document must not stop the follower."""
    doc = make_story("a")
    staged = index.apply([{**doc, "_id": None}, make_story("b"), {**doc, "sort_at": "soon"}])
    index.commit("1-0")
    assert staged == 1
    assert [h.id for h in index.search().hits] == ["b"]


def test_the_newest_version_wins_whatever_the_order(index: SearchIndex) -> None:
    v1 = {**make_story("a", "First title"), "_v": 1}
    v3 = {**make_story("a", "Third title"), "_v": 3}
    v2 = {**make_story("a", "Second title"), "_v": 2}
    index.apply_newest([v1, v3, v2])  # within one batch
    index.commit("1-0")
    assert index.versions(["a"]) == {"a": 3}
    index.apply_newest([v2])  # against the committed index
    index.commit("2-0")
    [hit] = index.search().hits
    assert hit.document["title"] == "Third title"
    index.apply_newest([{**v3, "title": "Third, again"}])  # equal: applied again
    index.commit("3-0")
    assert index.search().hits[0].document["title"] == "Third, again"


def test_story_times_from_a_snapshot_are_iso_text(index: SearchIndex) -> None:
    doc = make_story("a", sort_at=datetime(2021, 1, 7, 12, tzinfo=UTC))
    snapshot = {**doc, "sort_at": "2021-01-07T12:00:00.000Z", "published_at": None}
    index.apply([snapshot])
    index.commit("1-0")
    when = datetime(2021, 1, 7, tzinfo=UTC)
    f = SearchFilters(date_from=when, date_to=when.replace(hour=23))
    assert [h.id for h in index.search(filters=f).hits] == ["a"]


@pytest.mark.parametrize("year", [1, 1500, 2300, 9999])
def test_dates_beyond_what_tantivy_holds_are_clamped(index: SearchIndex, year: int) -> None:
    doc = make_story("a", sort_at=datetime(year, 6, 1, tzinfo=UTC))
    index.apply([doc])
    index.commit("1-0")
    assert index.facets()["months"][0].key == f"{year:04d}-06"
    far = SearchFilters(date_from=datetime(1, 1, 1, tzinfo=UTC))
    assert index.count(None, far) == 1
    assert [h.id for h in index.search(filters=far).hits] == ["a"]


def test_rebuild_progress_is_recorded_with_the_commit(index: SearchIndex) -> None:
    index.apply([make_story("a")])
    index.commit(None, rebuild={"tip": "5-0", "after": "a", "done": 1})
    assert index.rebuild_state() == {"tip": "5-0", "after": "a", "done": 1}
    assert index.position() is None
    index.commit("5-0")
    assert index.rebuild_state() is None
    assert index.position() == "5-0"


def test_matching_tells_which_of_some_stories_match(index: SearchIndex) -> None:
    index.apply([make_story("a", topics=["elections"]), make_story("b"), make_story("c")])
    index.commit("1-0")
    hits = index.matching(["c", "a", "zz"], None, SearchFilters(topic=["elections"]))
    assert [h.id for h in hits] == ["a"]
    assert [h.id for h in index.matching(["c", "a"], None)] == ["c", "a"]


# --- paging -------------------------------------------------------------------------


def keys_in_order(index: SearchIndex, sort: str, limit: int) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        page = index.search(sort=sort, limit=limit, cursor=cursor)  # type: ignore[arg-type]
        out += [h.id for h in page.hits]
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def colliding_ids() -> tuple[str, str]:
    """Two ids whose sort_key tie-break bits are equal (found by brute force)."""
    seen: dict[int, str] = {}
    for i in range(1_000_000):
        story_id = hashlib.md5(str(i).encode()).hexdigest()
        bits = schema.tie_break(story_id)
        if bits in seen:
            return seen[bits], story_id
        seen[bits] = story_id
    raise AssertionError("no collision found")


#: Three ids with equal tie-break bits (found once by brute force over "t0", "t1", ...).
TRIPLE = ("t60158", "t1398077", "t1658724")


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("added", list(itertools.permutations(TRIPLE)))
def test_a_page_boundary_inside_a_group_of_equal_keys(
    tmp_path: Path, story: Story, sort: str, added: tuple[str, ...]
) -> None:
    assert len({schema.sort_key(DAY, i) for i in TRIPLE}) == 1
    index = SearchIndex.create(tmp_path / "ix")
    # Whatever the order they were added in, Tantivy's own order among them is not ours.
    docs = [story(i, sort_at=DAY) for i in added]
    docs += [
        story("before", sort_at=DAY - timedelta(days=1)),
        story("after", sort_at=DAY + timedelta(days=1)),
    ]
    index.apply(docs)
    index.commit("1-0")
    middle = sorted(TRIPLE, reverse=sort == "newest")
    expected = ["after", *middle, "before"] if sort == "newest" else ["before", *middle, "after"]
    for limit in (1, 2, 3, 4):
        assert keys_in_order(index, sort, limit) == expected
    index.close()


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_keyset_order_is_total_even_with_equal_keys(
    index: SearchIndex, story: Story, sort: str
) -> None:
    a, b = colliding_ids()
    assert schema.sort_key(DAY, a) == schema.sort_key(DAY, b)
    docs = [story(a, sort_at=DAY), story(b, sort_at=DAY)]
    docs += [story(f"s{i:02d}", sort_at=DAY + timedelta(days=i % 3)) for i in range(12)]
    index.apply(docs)
    index.commit("1-0")
    expected = sorted(
        (d["_id"] for d in docs),
        key=lambda i: (schema.sort_key(next(d["sort_at"] for d in docs if d["_id"] == i), i), i),
        reverse=sort == "newest",
    )
    for limit in (1, 2, 3, 5, 20):
        assert keys_in_order(index, sort, limit) == expected


def test_keyset_paging_has_no_duplicates_or_gaps_while_stories_arrive(
    index: SearchIndex, story: Story
) -> None:
    rng = random.Random(13)
    original = [
        story(f"o{i:03d}", sort_at=DAY + timedelta(hours=rng.randrange(0, 48))) for i in range(60)
    ]
    index.apply(original)
    index.commit("1-0")
    served: list[str] = []
    keys: list[tuple[int, str]] = []
    cursor = None
    round_ = 0
    while True:
        page = index.search(limit=7, cursor=cursor)
        for hit in page.hits:
            served.append(hit.id)
            when = datetime.fromisoformat(hit.document["sort_at"])
            keys.append((schema.sort_key(when, hit.id), hit.id))
        assert page.total == 60 + 3 * round_
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        # Between pages: new stories older and newer than the cursor, and a replay.
        round_ += 1
        index.apply(
            [
                story(f"n{round_}a", sort_at=DAY + timedelta(hours=rng.randrange(0, 48))),
                story(f"n{round_}b", sort_at=DAY + timedelta(days=9)),
                story(f"n{round_}c", sort_at=DAY - timedelta(days=9 + round_)),
                original[rng.randrange(60)],
            ]
        )
        index.commit(f"{round_ + 1}-0")
    assert len(served) == len(set(served))
    assert {d["_id"] for d in original} <= set(served)
    assert keys == sorted(keys, reverse=True)
    # Stories older than every cursor appear; ones newer than the first page do not.
    assert all(f"n{r}c" in served for r in range(1, round_ + 1))
    assert not any(f"n{r}b" in served for r in range(1, round_ + 1))


def test_relevance_pages_by_offset(index: SearchIndex, story: Story) -> None:
    index.apply([story(f"s{i}", "election " * (i + 1)) for i in range(9)])
    index.commit("1-0")
    seen: list[str] = []
    cursor = None
    while True:
        page = index.search(parse("election"), sort="relevance", limit=4, cursor=cursor)
        assert page.total == 9
        seen += [h.id for h in page.hits]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(f"s{i}" for i in range(9))
    assert len(seen) == 9


def test_relevance_without_a_query_falls_back_to_newest(index: SearchIndex, story: Story) -> None:
    index.apply([story("old", sort_at=DAY), story("new", sort_at=DAY + timedelta(days=1))])
    index.commit("1-0")
    page = index.search(sort="relevance")
    assert [h.id for h in page.hits] == ["new", "old"]
    assert all(h.score is None for h in page.hits)


def test_bad_cursors_are_refused(index: SearchIndex, story: Story) -> None:
    index.apply([story("a"), story("b")])
    index.commit("1-0")
    newest = index.search(limit=1).next_cursor
    assert newest
    with pytest.raises(CursorError):
        index.search(sort="oldest", cursor=newest)
    with pytest.raises(CursorError):
        index.search(cursor="not-a-cursor!")
    with pytest.raises(CursorError):
        index.search(parse("a"), sort="relevance", cursor=newest)


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "newest", "k": 2**63, "i": "a"},
        {"s": "newest", "k": -(2**63) - 1, "i": "a"},
        {"s": "newest", "k": 10**40, "i": "a"},
        {"s": "newest", "k": True, "i": "a"},
        {"s": "newest", "k": 1.5, "i": "a"},
        {"s": "newest", "k": 1, "i": 7},
        {"s": "relevance", "o": 10**9},
        {"s": "relevance", "o": -1},
        ["newest", 1, "a"],
    ],
)
def test_forged_cursors_are_refused_not_crashed(index: SearchIndex, payload: object) -> None:
    """A cursor is client input: numbers beyond what the index holds are a CursorError
    (a 422), never an overflow inside the engine (a 500)."""
    index.apply([make_story("a")])
    index.commit("1-0")
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    sort = payload["s"] if isinstance(payload, dict) else "newest"
    with pytest.raises(CursorError):
        index.search(parse("a"), sort=sort, cursor=forged)


# --- filters, counts, facets ----------------------------------------------------------


def corpus(index: SearchIndex) -> None:
    index.apply(
        [
            make_story(
                "1",
                "Election observation",
                topics=["elections"],
                countries=["ua"],
                offices=[{"id": "odihr", "name": "ODIHR"}],
                content_type="press-release",
                sort_at=datetime(2024, 1, 5, tzinfo=UTC),
            ),
            make_story(
                "2",
                "Election law review",
                topics=["elections", "rule-of-law"],
                countries=["md"],
                offices=[{"id": "odihr", "name": "ODIHR"}],
                content_type="news",
                sort_at=datetime(2024, 2, 5, tzinfo=UTC),
            ),
            make_story(
                "3",
                "Media freedom",
                topics=["media-freedom"],
                countries=["ua"],
                offices=[{"id": "rfom", "name": "RFoM"}],
                content_type="news",
                sort_at=datetime(2024, 2, 20, tzinfo=UTC),
                language="fr",
            ),
            make_story(
                "4",
                "Border security",
                topics=["border"],
                countries=["md", "ua"],
                content_type="news",
                sort_at=datetime(2024, 3, 1, tzinfo=UTC),
            ),
        ]
    )
    index.commit("1-0")


def test_filters_combine_and_count_exactly(index: SearchIndex) -> None:
    corpus(index)

    def run(**kw: object) -> tuple[list[str], int]:
        page = index.search(filters=SearchFilters(**kw))  # type: ignore[arg-type]
        return [h.id for h in page.hits], page.total

    assert run(topic=["elections"]) == (["2", "1"], 2)
    assert run(topic=["elections", "border"]) == (["4", "2", "1"], 3)
    assert run(topic=["elections"], country=["ua"]) == (["1"], 1)
    assert run(office=["odihr"], date_from=datetime(2024, 2, 1)) == (["2"], 1)  # naive = UTC
    assert run(date_to=datetime(2024, 2, 5, tzinfo=UTC)) == (["2", "1"], 2)
    assert run(content_type=["news"], language=["fr"]) == (["3"], 1)
    page = index.search(parse("election"), SearchFilters(country=["md"]), limit=1)
    assert ([h.id for h in page.hits], page.total) == (["2"], 1)


def test_facets_for_a_text_query(index: SearchIndex) -> None:
    corpus(index)
    facets = index.facets(parse("election OR border"))
    as_dict = {k: {b.key: b.count for b in v} for k, v in facets.items()}
    assert as_dict == {
        "topics": {"elections": 2, "rule-of-law": 1, "border": 1},
        "offices": {"odihr": 2},
        "countries": {"ua": 2, "md": 2},
        "content_types": {"news": 2, "press-release": 1},
        "months": {"2024-03": 1, "2024-02": 1, "2024-01": 1},
    }
    assert [b.key for b in facets["months"]] == ["2024-03", "2024-02", "2024-01"]
    assert facets["topics"][0].key == "elections"
    filtered = index.facets(None, SearchFilters(country=["ua"]))
    assert {b.key: b.count for b in filtered["topics"]} == {
        "elections": 1,
        "media-freedom": 1,
        "border": 1,
    }


def test_hits_carry_the_payload(index: SearchIndex) -> None:
    corpus(index)
    hit = index.search(parse("observation")).hits[0]
    assert hit.document["title"] == "Election observation"
    assert hit.document["topics"] == [{"id": "elections", "name": "Elections"}]
    assert hit.document["sort_at"] == "2024-01-05T00:00:00Z"
    assert hit.document["url"] == "https://example.org/1"


# --- highlights -----------------------------------------------------------------------


def test_highlight_offsets_point_at_the_matches(index: SearchIndex, story: Story) -> None:
    body = (
        ("Дети и взрослые. " * 30)
        + "Les électeurs ont voté pour les élections à Genève. "
        + ("Überall ruhig. " * 30)
    )
    index.apply(
        [
            story(
                "a",
                "Élections à Genève : l’ODIHR observe",
                summary="Les élections du 3 mars",
                body=body,
                language="fr",
            ),
        ]
    )
    index.commit("1-0")
    hit = index.search(parse("élections genève")).hits[0]
    title, summary, body_light = (
        hit.highlights["title"],
        hit.highlights["summary"],
        hit.highlights["body"],
    )
    assert title.text == "Élections à Genève : l’ODIHR observe"
    assert [title.text[s:e] for s, e in title.matches] == ["Élections", "Genève"]
    assert [summary.text[s:e] for s, e in summary.matches] == ["élections"]
    assert body_light.text == body[body_light.start : body_light.start + len(body_light.text)]
    assert len(body_light.text) <= 240
    assert [body_light.text[s:e] for s, e in body_light.matches] == ["élections", "Genève"]


def test_no_highlights_without_a_query_or_for_excluded_words(
    index: SearchIndex, story: Story
) -> None:
    index.apply([story("a", "Election in Ukraine", summary="Observers in Ukraine")])
    index.commit("1-0")
    assert index.search().hits[0].highlights == {}
    hit = index.search(parse("election -moldova -title:ukrainian")).hits[0]
    assert set(hit.highlights) == {"title"}
    assert [hit.highlights["title"].text[s:e] for s, e in hit.highlights["title"].matches] == [
        "Election"
    ]


def test_limit_is_bounded(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        index.search(limit=0)
    with pytest.raises(ValueError, match="limit"):
        index.search(limit=501)


def test_excluding_a_stop_word_excludes_nothing(index: SearchIndex) -> None:
    """`-the` must not drop the English stories, for which "the" is no word at all."""
    index.apply(
        [
            make_story("en1", "The elections in Albania", language="en"),
            make_story("en2", "Policing seminar", language="en"),
            make_story("fr1", "Les élections en Albanie", language="fr"),
            make_story("xx1", "the unguessable", language="xx"),
        ]
    )
    index.commit("1-0")

    def ids(q: str) -> set[str]:
        return {h.id for h in index.search(parse(q), limit=50).hits}

    assert ids("-the") == {"en1", "en2", "fr1"}  # only the story that has the word "the"
    # "les" is a stop-word in French only; "the" in English only; xx1 has "the".
    assert ids("-(the OR les)") == {"en1", "en2", "fr1"}
    assert ids("elections -the") == {"en1", "fr1"}
    assert ids("the") == {"xx1"}  # a stop-word only: found only where it is a word
    assert ids("-policing -the") == {"en1", "fr1"}
