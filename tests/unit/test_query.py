"""Query parsing: no user string becomes an operator; cursors round-trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow_gateway.search.query import (
    CursorError,
    Filters,
    decode_cursor,
    encode_cursor,
    parse_text_query,
)


def test_words_phrases_and_exclusions() -> None:
    q = parse_text_query('Asset Récovery "rule of law" -Ukraine -"daily report"')
    assert q.required == ["asset", "recovery"]
    assert q.phrases == [["rule", "of", "law"]]
    assert q.excluded == ["daily report", "ukraine"]
    assert q.filter() == {
        "terms": {"$all": ["asset", "recovery", "rule of", "of law"], "$nin": q.excluded}
    }


def test_operators_in_user_text_are_just_words() -> None:
    q = parse_text_query('{"$where": "sleep(1000)"} $ne .*')
    assert q.required == ["where", "ne"]
    assert q.phrases == [["sleep", "1000"]]
    assert all(not t.startswith("$") for t in q.filter()["terms"]["$all"])


def test_filters_or_within_and_across() -> None:
    f = Filters(
        topic=["elections"], office=["odihr", "hcnm"], date_from=datetime(2021, 1, 1, tzinfo=UTC)
    )
    assert f.filter() == {
        "topic_ids": "elections",
        "office_ids": {"$in": ["odihr", "hcnm"]},
        "sort_at": {"$gte": datetime(2021, 1, 1, tzinfo=UTC)},
    }


def test_cursor_round_trip_and_tampering() -> None:
    when = datetime(2021, 1, 7, tzinfo=UTC)
    cursor = encode_cursor([when, "ab" * 16])
    assert decode_cursor(cursor, (datetime, str)) == [when, "ab" * 16]
    for bad in ["", "!!!", encode_cursor([1, 2]), encode_cursor(["x"])]:
        with pytest.raises(CursorError):
            decode_cursor(bad, (datetime, str))
