"""Too many declared places (or subjects) reject the item, naming the field and the limit.

A NewsML-G2 ``located`` list or ninjs ``located``/``places``/``locations`` longer than
the contract's 50 countries was cut to the first 50, and the rest lost without a
word. Every other list of the contract (offices, topics, a ninjs ``organisations``
list, feed categories) is refused when it is too long, so these are too, through
the same rejection as any invalid item: ``countries: at most 50 entries``. Places
are deduplicated first: ten thousand copies of one place are one country.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats import parse_body
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.ninjs import parse_ninjs
from newsflow.domain.normalise import Rejection, normalise
from newsflow.runtime.enqueue import check
from newsflow_tools import cli
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytestmark = pytest.mark.tools

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NS = "http://iptc.org/std/nar/2006-10-01/"
TITLE = "Statement by the spokesperson"
LIMIT = LIMITS["countries"]
TOO_MANY = {"field": "countries", "message": f"at most {LIMIT} entries"}


def news_item(meta: str) -> bytes:
    return f"""<newsItem xmlns="{NS}" guid="urn:x:located" version="1">
  <itemMeta><itemClass qcode="ninat:text"/></itemMeta>
  <contentMeta><headline>{TITLE}</headline>{meta}</contentMeta>
  <contentSet><inlineData contenttype="text/plain">Text.</inlineData></contentSet>
</newsItem>""".encode()


def located(names: list[str]) -> bytes:
    return news_item("".join(f"<located><name>{n}</name></located>" for n in names))


def places(n: int) -> list[str]:
    return [f"Place {i}" for i in range(n)]


def one(result: Any) -> dict[str, Any]:
    assert result.errors == []
    (parsed,) = result.items
    item: dict[str, Any] = parsed.item
    return item


def rejection(item: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(Rejection) as refused:
        normalise(item, now=NOW)
    return refused.value.errors


def test_ten_thousand_located_places_reject_the_item_naming_the_field_and_limit() -> None:
    item = one(parse_newsml(located(places(10_000))))
    assert rejection(item) == [TOO_MANY]


def test_one_place_over_the_limit_rejects_and_the_limit_itself_is_accepted() -> None:
    assert rejection(one(parse_newsml(located(places(LIMIT + 1))))) == [TOO_MANY]
    item = normalise(one(parse_newsml(located(places(LIMIT)))), now=NOW)
    assert item.countries == places(LIMIT)


def test_broader_places_count_too() -> None:
    """Each located place and its broader ones are declared countries."""
    meta = "".join(
        f"<located><name>City {i}</name><broader><name>Region {i}</name></broader></located>"
        for i in range(LIMIT // 2 + 1)
    )
    assert rejection(one(parse_newsml(news_item(meta)))) == [TOO_MANY]


def test_ten_thousand_copies_of_one_place_are_one_country() -> None:
    meta = '<located qcode="iso3166-1a2:RS"><name>Serbia</name></located>' * 10_000
    item = normalise(one(parse_newsml(news_item(meta))), now=NOW)
    assert item.countries == ["Serbia (iso3166-1a2:RS)"]
    # ... and repeats around fifty distinct places do not push them over the limit
    item = normalise(one(parse_newsml(located(places(LIMIT) * 200))), now=NOW)
    assert item.countries == places(LIMIT)


def ninjs(**fields: Any) -> dict[str, Any]:
    return one(parse_ninjs(json.dumps({"uri": "urn:x:1", "headline": TITLE, **fields})))


@pytest.mark.parametrize("key", ["places", "locations"])
def test_ninjs_places_and_locations_over_the_limit_reject(key: str) -> None:
    entries = [{"name": name} for name in places(10_000)]
    assert rejection(ninjs(**{key: entries})) == [TOO_MANY]
    # deduplicated first: ten thousand copies of one place are one country
    same = [{"name": "Serbia", "qcode": "iso3166-1a2:RS"}] * 10_000
    assert normalise(ninjs(**{key: same}), now=NOW).countries == ["Serbia (iso3166-1a2:RS)"]


def test_ninjs_located_and_places_count_together() -> None:
    item = ninjs(located="Belgrade", places=[{"name": name} for name in places(LIMIT)])
    assert rejection(item) == [TOO_MANY]
    item = ninjs(located="Place 0", places=[{"name": name} for name in places(LIMIT)])
    assert normalise(item, now=NOW).countries == places(LIMIT)


def test_too_many_subjects_reject_as_too_many_places_do() -> None:
    """Topics came through the same cut; they are refused the same way now."""
    subjects = "".join(
        f'<subject type="cpnat:abstract" qcode="medtop:{20000000 + n:08d}"><name>s{n}</name>'
        "</subject>"
        for n in range(10_000)
    )
    item = one(parse_newsml(news_item(subjects)))
    assert rejection(item) == [
        {"field": "topics", "message": f"at most {LIMITS['topics']} entries"}
    ]
    flood = [{"name": f"s{n}", "qcode": "medtop:20000574"} for n in range(10_000)]
    assert rejection(ninjs(subjects=flood)) == [
        {"field": "topics", "message": f"at most {LIMITS['topics']} entries"}
    ]


def test_the_rejection_names_the_item_in_a_batch() -> None:
    """What POST /v1/items and newsflow push answer: one rejected item, the others kept."""
    message = (
        f'<newsMessage xmlns="{NS}"><itemSet>'
        + located(places(LIMIT + 1)).decode()
        + news_item("").decode().replace("urn:x:located", "urn:x:plain")
        + "</itemSet></newsMessage>"
    ).encode()
    checked = check(parse_body(message, "newsml"), now=NOW)
    assert len(checked.valid) == 1
    (rejected,) = checked.rejected
    assert rejected.reason == f"countries: at most {LIMIT} entries"
    assert [(e.field, e.message) for e in rejected.errors] == [("countries", TOO_MANY["message"])]


async def test_post_items_answers_problem_details_naming_the_field(start: Start) -> None:
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": "application/vnd.iptc.g2.newsitem+xml",
        }
        response = await gw.client.post(
            "/v1/items", content=located(places(10_000)), headers=headers
        )
        problem = assert_problem(response, 422)
        assert problem["errors"] == [TOO_MANY]
        assert await gw.fakes.redis.xrange("news:ingest") == []
        same = news_item('<located qcode="iso3166-1a2:RS"><name>Serbia</name></located>' * 10_000)
        response = await gw.client.post("/v1/items", content=same, headers=headers)
        assert response.status_code == 202, response.text
        ((_id, fields),) = await gw.fakes.redis.xrange("news:ingest")
        assert orjson.loads(fields[b"item"])["countries"] == ["Serbia (iso3166-1a2:RS)"]


def test_push_dry_run_reports_the_rejection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "wire.xml"
    path.write_bytes(located(places(10_000)))
    code = cli.main(["push", "--dry-run", str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")  # a dry run reports rejections; it does not fail on them
    assert err.splitlines() == [
        f"line 1: rejected: countries: at most {LIMIT} entries",
        "would push 0 items, rejected 1",
    ]
