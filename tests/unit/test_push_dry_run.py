"""``newsflow push --dry-run FILE``: read and check a file, push nothing, talk to no server."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools import cli
from tests.unit.test_formats_newsml import DATA_ITEM, NEWS_ITEM, XHTML_ITEM, message

pytestmark = pytest.mark.tools


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point every server setting at nothing: a dry run must not need one."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(["push", "--dry-run", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_news_message_prints_each_item_and_each_rejection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wire.xml"
    path.write_text(message(NEWS_ITEM, "<conceptItem guid='c1'/>", XHTML_ITEM, DATA_ITEM))
    code, out, err = run(capsys, str(path))
    assert code == 0
    items = [orjson.loads(line) for line in out]
    assert [i["title"] for i in items] == [
        "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        "Chairperson welcomes release of detainees",
        "Plain wire copy",
    ]
    assert items[0]["revision"] == 3
    assert err == [
        "line 2: rejected: a conceptItem (a concept of a controlled vocabulary) c1 has no text: "
        "no headline and nothing to publish",
        "would push 3 items, rejected 1",
    ]


def test_items_the_normaliser_refuses_are_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"title": "Good"}\n{"title": "Bad", "author": "me"}\n{broken\n')
    code, out, err = run(capsys, str(path))
    assert code == 0
    assert [orjson.loads(line)["title"] for line in out] == ["Good"]
    assert err[0] == "line 2: rejected: author: unknown field"
    assert err[1].startswith("line 3: rejected: not valid JSON")
    assert err[-1] == "would push 1 items, rejected 2"


def test_one_key_for_two_stories_in_the_file_is_a_rejection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "items.jsonl"
    lines = [{"title": "A", "idempotency_key": "k"}, {"title": "B", "idempotency_key": "k"}]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    code, out, err = run(capsys, str(path))
    assert code == 0
    assert [orjson.loads(line)["title"] for line in out] == ["A"]
    assert err[0].startswith("line 2: rejected: idempotency_key: already used")


def test_a_file_with_nothing_good_still_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "story.nitf"
    path.write_text("<nitf><body/></nitf>")
    code, out, err = run(capsys, str(path))
    assert (code, out) == (0, [])
    assert err == [
        "line 1: rejected: the NITF document has no headline (body.head/hedline/hl1)",
        "would push 0 items, rejected 1",
    ]


def test_missing_file_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.xml"))
    assert code == 2
    assert out == []
    assert err == [f"newsflow push: no such file: {tmp_path / 'nope.xml'}"]


def test_unreadable_text_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "items.json"
    path.write_bytes(b'{"title": "Bad \xc3\x28"}')
    code, out, err = run(capsys, str(path))
    assert code == 2
    assert out == []
    assert err[0].startswith(f"newsflow push: {path}: the body is not UTF-8")


def test_format_can_be_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "story.txt"
    path.write_text(NEWS_ITEM)
    code, out, _err = run(capsys, "--format", "newsml", str(path))
    assert code == 0
    assert len(out) == 1
