"""The search path, pure parts: parameters → query model → filter; cursors round-trip.

No user string becomes an operator; the database filter and the live stream's
Python test agree.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsflow.domain import search
from newsflow.store import StoredStory
from newsflow_gateway.search import listing as listing_module
from newsflow_gateway.search import params as params_module
from newsflow_gateway.search import query as query_module
from newsflow_gateway.search.listing import CursorError, decode_cursor, encode_cursor
from newsflow_gateway.search.params import EARLIEST, LATEST, ListQuery, parse_text_query
from newsflow_gateway.search.query import (
    MATCH_NOTHING,
    Filters,
    SearchQuery,
    TextQuery,
    order_of,
)


def test_words_phrases_and_exclusions() -> None:
    q = parse_text_query('Asset Récovery "rule of law" -Ukraine -"daily report"')
    assert q.required == ["asset", "recovery"]
    assert q.phrases == [["rule", "of", "law"]]
    assert q.excluded == ["daily report", "ukraine"]
    terms, asset, recovery = q.filter()["$and"]
    assert terms == {
        "terms": {"$all": ["rule of", "of law"], "$nin": q.excluded_terms()},
    }
    assert q.excluded_terms()[:2] == ["daily report", "ukraine"]
    assert asset["terms"]["$in"][0] == "asset"
    assert recovery["terms"]["$in"][0] == "recovery"


def test_operators_in_user_text_are_just_words() -> None:
    q = parse_text_query('{"$where": "sleep(1000)"} $ne .*')
    assert q.required == ["where", "ne"]
    assert q.phrases == [["sleep", "1000"]]
    assert all(not t.startswith("$") for t in q.units())


@pytest.mark.parametrize("q", [".*", "-", '""', "", "   ", "\U0001f389\U0001f30d", "the", "-of"])
def test_nothing_searchable_matches_nothing(q: str) -> None:
    text = parse_text_query(q)
    assert not text.searchable
    assert text.filter() == MATCH_NOTHING
    assert not text.matches({"anything", "the"})
    assert not SearchQuery(text=text).matches(StoredStory(_id="a", title="x", terms=["x"]))


def test_no_q_matches_everything() -> None:
    text = parse_text_query(None)
    assert text.searchable
    assert text.filter() == {}
    assert text.matches(set())


def test_splits_of_a_word_are_the_pairs_it_may_be_written_as() -> None:
    assert "co operation" in search.splits("cooperation")
    assert "e mail" in search.splits("email")
    assert "with in" not in search.splits("within")  # stop-word halves
    assert all(len(p.split()[1]) > 1 for p in search.splits("reforms"))
    assert search.splits("x" * (search.MAX_SPLIT_LENGTH + 1)) == []
    assert search.joined(["co", "operation"]) == "cooperation"
    assert search.pairs(["rule", "of", "law"]) == search.bigrams("Rule of law")


def test_hyphenated_and_joined_words_find_each_other() -> None:
    """As storage indexes them: 'co-operation' → co, operation, 'co operation'."""
    hyphenated = set(search.terms("co-operation")) | set(search.bigrams("co-operation"))
    joined = set(search.terms("cooperation")) | set(search.bigrams("cooperation"))
    for q in ("cooperation", "co-operation", "Co-Operation", "CO-OPERATION"):
        text = parse_text_query(q)
        assert text.matches(hyphenated), q
        assert text.matches(joined), q
    assert not parse_text_query("cooperation").matches({"co", "operation"})
    assert not parse_text_query("-cooperation").matches(hyphenated)
    assert not parse_text_query("-co-operation").matches(joined)
    assert parse_text_query("co-operation").filter() == {
        "terms": {"$in": ["co operation", "cooperation"]}
    }


def test_filter_and_python_matching_agree_on_alternatives() -> None:
    text = parse_text_query("state-of-the-art water")
    assert text.compounds == [["state", "of", "the", "art"]]
    assert text.matches({"water", "state of", "of the", "the art"})
    assert text.matches({"water", "stateoftheart"})
    assert not text.matches({"water", "state of", "the art"})
    clauses = text.filter()["$and"]
    assert {"$or": [{"terms": {"$all": ["state of", "of the", "the art"]}},
                    {"terms": {"$all": ["stateoftheart"]}}]} in clauses  # fmt: skip


def test_filters_or_within_and_across() -> None:
    f = Filters(
        topic=["elections"], office=["odihr", "hcnm"], date_from=datetime(2021, 1, 1, tzinfo=UTC)
    )
    assert f.filter() == {
        "topic_ids": "elections",
        "office_ids": {"$in": ["odihr", "hcnm"]},
        "sort_at": {"$gte": datetime(2021, 1, 1, tzinfo=UTC)},
    }
    story = StoredStory(
        _id="a", title="t", topic_ids=["elections"], office_ids=["hcnm"], sort_at=datetime.now(UTC)
    )
    assert f.matches(story)
    assert not f.matches(story.model_copy(update={"office_ids": ["tntd"]}))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0001-01-01T00:00:00+05:00", EARLIEST),
        ("9999-12-31T23:59:59-05:00", LATEST),
        ("2021-01-07T02:00:00+02:00", datetime(2021, 1, 7, tzinfo=UTC)),
    ],
)
def test_dates_are_utc_and_clamped_at_the_ends_of_time(given: str, expected: datetime) -> None:
    for name in ("from", "to"):
        params = ListQuery.model_validate({name: given})
        value = params.date_from if name == "from" else params.date_to
        assert value == expected
        assert value is not None
        assert value.tzinfo == UTC


def test_dates_still_need_a_zone() -> None:
    with pytest.raises(ValidationError):
        ListQuery.model_validate({"from": "2021-01-07T00:00:00"})


def test_order_and_relevance_needs_words() -> None:
    assert order_of("relevance", parse_text_query("law")).keys == ("score", "sort_at", "_id")
    assert order_of("relevance", TextQuery()).keys == ("sort_at", "_id")
    assert order_of("oldest", TextQuery()).sort() == {"sort_at": 1, "_id": 1}


def _gateway_imports(module: object) -> set[str]:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and node.module.startswith("newsflow_gateway")
    }


def test_the_search_path_runs_one_way() -> None:
    """params → query → listing: query imports neither, and they not each other."""
    assert _gateway_imports(query_module) == set()
    assert _gateway_imports(params_module) == {
        "newsflow_gateway.problems",
        "newsflow_gateway.search.query",
    }
    assert _gateway_imports(listing_module) == {"newsflow_gateway.search.query"}


def test_cursor_round_trip_and_tampering() -> None:
    when = datetime(2021, 1, 7, tzinfo=UTC)
    cursor = encode_cursor([when, "ab" * 16])
    assert decode_cursor(cursor, (datetime, str)) == [when, "ab" * 16]
    for bad in ["", "!!!", encode_cursor([1, 2]), encode_cursor(["x"])]:
        with pytest.raises(CursorError):
            decode_cursor(bad, (datetime, str))
