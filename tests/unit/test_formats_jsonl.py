"""JSON Lines read line by line: one bad line, even one that is not UTF-8, stops nothing else."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.formats import Format, NotText, parse_body
from newsflow_tools import cli
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytestmark = pytest.mark.tools

#: Line 2 holds a byte that is never UTF-8; lines 1 and 3 are good.
MIXED = b'{"title":"ok1"}\n{"title":"bad \xff"}\n{"title":"ok2"}\n'


def test_a_line_that_is_not_utf8_is_one_error() -> None:
    result = parse_body(MIXED, "jsonl")
    assert [(p.line, p.item["title"]) for p in result.items] == [(1, "ok1"), (3, "ok2")]
    assert [(e.line, e.message) for e in result.errors] == [(2, "not UTF-8 text")]


def test_a_jsonl_file_found_by_its_name_reads_line_by_line() -> None:
    result = parse_body(MIXED, name="b.jsonl")
    assert [p.line for p in result.items] == [1, 3]
    assert [e.line for e in result.errors] == [2]


def test_a_multibyte_character_split_by_no_newline_stays_whole() -> None:
    result = parse_body('{"title":"Priština — 日本"}\r\n'.encode(), "jsonl")
    assert result.items[0].item["title"] == "Priština — 日本"


@pytest.mark.parametrize("fmt", ["json", "ninjs", "newsroom"])
def test_a_whole_document_that_is_not_utf8_is_still_refused_whole(fmt: Format) -> None:
    with pytest.raises(NotText):
        parse_body(MIXED, fmt)


def test_push_dry_run_rejects_only_the_bad_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    path = tmp_path / "b.jsonl"
    path.write_bytes(MIXED)
    assert cli.main(["push", "--dry-run", str(path)]) == 0
    out, err = capsys.readouterr()
    assert [orjson.loads(line)["title"] for line in out.splitlines()] == ["ok1", "ok2"]
    assert err.splitlines() == [
        "line 2: rejected: not UTF-8 text",
        "would push 2 items, rejected 1",
    ]


async def test_post_ndjson_names_the_line_that_is_not_utf8(start: Start) -> None:
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": "application/x-ndjson",
        }
        response = await gw.client.post("/v1/items", content=MIXED, headers=headers)
        # the gateway's usual per-item answer (items[i] is line i + 1), not a 400 for the body
        problem = assert_problem(response, 422)
        assert problem["errors"] == [{"field": "items[1]", "message": "not UTF-8 text"}]
