"""The CLI says which server it talks to, and answers in one line when that server
does not answer: no tracebacks, a non-zero exit. The servers here are closed ports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools import cli, embedded, stack_state
from newsflow_tools.stack_state import StackState
from tests.unit.test_tool_settings import VARIABLES

pytestmark = pytest.mark.tools


@pytest.fixture
def closed() -> str:
    """A port nothing listens on."""
    return str(embedded.free_port())


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSFLOW_MONGODB_TIMEOUT_MS", "300")
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, err.splitlines(), out


@pytest.mark.parametrize(
    "argv",
    [("keys", "create", "Example Wire"), ("keys", "list"), ("keys", "revoke", "abc123")],
)
def test_keys_answer_in_one_line_when_mongodb_is_down(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    closed: str,
    argv: tuple[str, ...],
) -> None:
    url = f"mongodb://127.0.0.1:{closed}/?directConnection=true"
    monkeypatch.setenv("MONGODB_URL", url)
    code, err, out = run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert err[0] == f"newsflow: MongoDB {url} (from the environment)"
    assert len(err) == 2, err
    assert err[1].startswith(f"newsflow {argv[0]} {argv[1]}: cannot reach MongoDB at {url}: ")
    assert "Topology" not in err[1]


def test_reenrich_answers_in_one_line_when_redis_is_down(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    code, err, _ = run(capsys, "reenrich", "--redis-url", f"redis://127.0.0.1:{closed}/0")
    assert code == 1
    assert err[0] == f"newsflow: Redis redis://127.0.0.1:{closed}/0 (from --redis-url)"
    assert len(err) == 3, err  # Redis, MongoDB, and the one error line
    assert err[2].startswith(f"newsflow reenrich: cannot reach Redis at redis://127.0.0.1:{closed}")


def test_status_names_a_running_stack_that_does_not_answer(
    capsys: pytest.CaptureFixture[str], closed: str
) -> None:
    url = f"redis://127.0.0.1:{closed}/0"
    stack_state.write(
        Path(".data/stack.json"),
        StackState(
            pid=4242,
            started_at=datetime.now(UTC),
            redis_url=url,
            mongodb_url="mongodb://127.0.0.1:1",
            gateway_url="http://127.0.0.1:1",
        ),
    )
    code, err, out = run(capsys, "status")
    assert code == 1
    assert out == ""
    assert err[0] == f"newsflow: Redis {url} (from the running stack, .data/stack.json)"
    assert len(err) == 2, err
    assert err[1].startswith(
        "newsflow status: the stack in .data/stack.json (newsflow run, pid 4242) does not "
        f"answer: Redis {url}: "
    )
    assert err[1].endswith("Is it still running? Start it, delete that file, or set REDIS_URL.")


def test_status_says_it_cannot_reach_the_redis_it_was_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://:secret@127.0.0.1:{closed}/0")
    code, err, _ = run(capsys, "status")
    assert code == 1
    assert err[0] == f"newsflow: Redis redis://:***@127.0.0.1:{closed}/0 (from the environment)"
    assert err[1].startswith(
        f"newsflow status: cannot reach Redis at redis://:***@127.0.0.1:{closed}"
    )
    assert "secret" not in "\n".join(err)


def test_dlq_retry_refuses_an_id_that_is_not_a_stream_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed}/0")
    code, err, _ = run(capsys, "dlq", "retry", "1-0", "garbage")
    assert code == 2
    assert err[-1] == (
        "newsflow dlq retry: not a stream id: 'garbage' (expected <milliseconds>-<sequence>)"
    )


def test_a_bad_setting_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://wrong")
    code, err, _ = run(capsys, "status")
    assert code == 1
    assert err == [
        "newsflow status: REDIS_URL: Value error, REDIS_URL must start with "
        "redis://, rediss://, unix:// or redis+sentinel://"
    ]
