"""A Redis that answers, but not usefully (a database it does not have, a server that
is not Redis at all), gets one line from every CLI command and a non-zero exit: never
a traceback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsflow_tools import cli
from newsflow_tools.embedded import EmbeddedServer
from tests.unit.test_tool_settings import VARIABLES

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.jsonl").write_text('{"title": "one"}\n')


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = cli.main(list(argv))
    _, err = capsys.readouterr()
    return code, err.splitlines()


@pytest.mark.parametrize("argv", [["status"], ["push", "one.jsonl"], ["dlq", "list"]])
def test_a_database_redis_does_not_have_is_one_line(
    redis_url: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    url = redis_url.rsplit("/", 1)[0] + "/99999"
    code, err = run(capsys, *argv, "--redis-url", url)
    assert code == 1
    assert err[-1] == (
        f"newsflow {' '.join(argv[:1] + argv[1:2] * (argv[0] == 'dlq'))}: cannot use Redis at "
        f"{url}: DB index is out of range"
    )
    assert not any("Traceback" in line for line in err)


@pytest.mark.parametrize("argv", [["status"], ["push", "one.jsonl"]])
def test_a_server_that_is_not_redis_is_one_line(
    mongo_server: EmbeddedServer, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    url = f"redis://127.0.0.1:{urlsplit(mongo_server.url).port}/0"
    code, err = run(capsys, *argv, "--redis-url", url)
    assert code == 1
    assert f"Redis at {url}: " in err[-1]
    assert err[-1].startswith(f"newsflow {argv[0]}: cannot ")
    assert len(err) == 2  # the announcement, then the one line


def test_a_wrong_password_is_one_line_that_hides_it(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    host = redis_url.split("//", 1)[1].split("/", 1)[0]
    url = f"redis://u:p@ss:w@{host}/0"
    code, err = run(capsys, "status", "--redis-url", url)
    assert code == 1
    assert err[-1].startswith(f"newsflow status: cannot use Redis at redis://u:***@{host}/0: ")
    assert "ss:w" not in "".join(err)
