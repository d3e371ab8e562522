"""HTTP query parameters → the query the search engine runs: parsing, errors, dates.

The query language itself is tested in ``tests/unit/index/test_query_parser.py``;
here, what the routes do with it: a syntax error is a 422 problem naming ``q`` and
the position, a ``q`` with nothing searchable matches nothing, no ``q`` matches all.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsflow.domain.taxonomy import load_taxonomy
from newsflow_gateway.index.query import QuerySyntaxError
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.routes import facets, feeds, items, stream
from newsflow_gateway.search.backend import StoryQuery
from newsflow_gateway.search.params import EARLIEST, LATEST, ListQuery

TAXONOMY = load_taxonomy(None)


def to_query(**params: object) -> StoryQuery:
    return ListQuery.model_validate(params).to_query(TAXONOMY)


def test_no_q_matches_everything_and_q_is_parsed_once() -> None:
    everything = to_query()
    assert (everything.text, everything.nothing) == (None, False)
    parsed = to_query(q='"rule of law" -ukraine')
    assert parsed.text is not None
    assert parsed.text.text == '"rule of law" -ukraine'
    assert not parsed.nothing


@pytest.mark.parametrize("q", [".*", "-", "🙂", '""', "!!"])
def test_nothing_searchable_matches_nothing(q: str) -> None:
    query = to_query(q=q)
    assert query.nothing
    assert query.text is None


@pytest.mark.parametrize(
    ("q", "position"),
    [('"rule of law', 0), ("(a OR b", 0), ("a OR", 2), ("()", 0), ("a)", 1)],
)
def test_bad_syntax_names_where(q: str, position: int) -> None:
    """The gateway answers it 422 with this position (test_search_inputs.py)."""
    with pytest.raises(QuerySyntaxError) as caught:
        to_query(q=q)
    assert caught.value.position == position
    assert caught.value.message
    assert f"at character {position}" in str(caught.value)


def test_a_query_over_the_limits_is_refused() -> None:
    with pytest.raises(QuerySyntaxError):
        to_query(q=" ".join(f"w{i}" for i in range(100)))


def test_filters_pass_through_and_unknown_ids_are_refused() -> None:
    query = to_query(topic=["elections"], office=["odihr"], language=["EN"])
    assert list(query.filters.topic) == ["elections"]
    assert list(query.filters.office) == ["odihr"]
    assert list(query.filters.language) == ["en"]
    with pytest.raises(ProblemError) as caught:
        to_query(topic=["nope"])
    assert caught.value.status == 422


def test_from_after_to_is_refused() -> None:
    with pytest.raises(ProblemError):
        to_query(**{"from": "2022-01-01T00:00:00Z", "to": "2021-01-01T00:00:00Z"})


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


def _gateway_imports(module: object) -> set[str]:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and node.module.startswith("newsflow_gateway")
    }


def test_read_routes_search_through_the_one_interface() -> None:
    """No read route reaches into the index or its service: a distributed engine can
    take their place behind ``StorySearch`` without touching them."""
    for module in (items, facets, feeds, stream):
        imported = _gateway_imports(module)
        assert not {m for m in imported if m.startswith("newsflow_gateway.index")}, module
