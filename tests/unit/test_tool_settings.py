"""Where the ``newsflow`` command finds its servers: flag > environment > .env >
the running stack's state file > defaults; and it can say which one it used."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools import stack_state
from newsflow_tools.settings import ToolSettings, redacted
from newsflow_tools.stack_state import StackState

pytestmark = pytest.mark.tools

STACK = StackState(
    pid=4242,
    started_at=datetime(2026, 1, 1, tzinfo=UTC),
    redis_url="redis://127.0.0.1:6390/0",
    mongodb_url="mongodb://127.0.0.1:27018/?directConnection=true",
    gateway_url="http://127.0.0.1:8001",
)
VARIABLES = (
    "REDIS_URL",
    "NEWSFLOW_REDIS_URL",
    "MONGODB_URL",
    "NEWSFLOW_MONGODB_URL",
    "GATEWAY_URL",
    "NEWSFLOW_GATEWAY_URL",
    "NEWSFLOW_DATA_DIR",
)


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No server variables, and a working directory of our own (no .env, no .data)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def running_stack(data_dir: Path = Path(".data")) -> Path:
    path = stack_state.path_in(data_dir)
    stack_state.write(path, STACK)
    return path


def test_without_a_stack_the_defaults_apply_and_say_so() -> None:
    settings = ToolSettings()
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.origin("redis_url") == "default"
    assert settings.stack is None
    assert settings.source_of("redis_url") == "the default; no running stack in .data/stack.json"


def test_the_running_stack_wins_over_the_defaults() -> None:
    running_stack()
    settings = ToolSettings()
    assert (settings.redis_url, settings.mongodb_url, settings.gateway_url) == (
        STACK.redis_url,
        STACK.mongodb_url,
        STACK.gateway_url,
    )
    assert settings.origin("redis_url") == "stack"
    assert settings.source_of("redis_url") == "from the running stack, .data/stack.json"
    assert settings.stack == STACK
    assert not settings.explicit("redis_url")  # found, not given: the bench must not use it


def test_the_environment_wins_over_the_state_file(monkeypatch: pytest.MonkeyPatch) -> None:
    running_stack()
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.1:6379/2")
    settings = ToolSettings()
    assert settings.redis_url == "redis://10.0.0.1:6379/2"
    assert settings.origin("redis_url") == "environment"
    assert settings.explicit("redis_url")
    # Only what the environment names is taken from it; the rest still comes from the stack.
    assert settings.mongodb_url == STACK.mongodb_url
    assert settings.origin("mongodb_url") == "stack"


def test_the_prefixed_variable_counts_as_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    running_stack()
    monkeypatch.setenv("NEWSFLOW_MONGODB_URL", "mongodb://db.example:27017")
    settings = ToolSettings()
    assert settings.mongodb_url == "mongodb://db.example:27017"
    assert settings.origin("mongodb_url") == "environment"


def test_dotenv_wins_over_the_state_file(clean: Path) -> None:
    running_stack()
    (clean / ".env").write_text("REDIS_URL=redis://from-dotenv:6379/0\n")
    settings = ToolSettings()
    assert settings.redis_url == "redis://from-dotenv:6379/0"
    assert settings.source_of("redis_url") == "from .env"


def test_a_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    running_stack()
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.1:6379/2")
    settings = ToolSettings(redis_url="redis://flag:6379/3")
    assert settings.redis_url == "redis://flag:6379/3"
    assert settings.source_of("redis_url") == "from --redis-url"
    assert settings.origin("mongodb_url") == "stack"


def test_the_data_dir_setting_moves_the_state_file(
    monkeypatch: pytest.MonkeyPatch, clean: Path
) -> None:
    running_stack(clean / "elsewhere")
    assert ToolSettings().origin("redis_url") == "default"
    monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(clean / "elsewhere"))
    settings = ToolSettings()
    assert settings.redis_url == STACK.redis_url
    assert settings.state_path == clean / "elsewhere" / "stack.json"


def test_a_broken_state_file_is_no_stack(clean: Path) -> None:
    (clean / ".data").mkdir()
    (clean / ".data" / "stack.json").write_text("{not json")
    assert ToolSettings().origin("redis_url") == "default"


def test_the_state_file_is_removed_only_by_its_own_runner() -> None:
    path = running_stack()
    stack_state.remove(path, pid=1)
    assert stack_state.read(path) == STACK
    stack_state.remove(path, pid=STACK.pid)
    assert not path.exists()


def test_passwords_are_not_printed() -> None:
    assert redacted("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert redacted("mongodb://user:p%40ss@h1:1,h2:2/db") == "mongodb://user:***@h1:1,h2:2/db"
    assert redacted("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"


def test_a_password_holding_at_signs_is_hidden_up_to_the_last_one() -> None:
    """The client splits the credentials at the last @, so the redaction must too."""
    assert redacted("redis://u:p@ss:w@127.0.0.1:6390/0") == "redis://u:***@127.0.0.1:6390/0"
    assert redacted("redis://:a@b@c@host/0?x=@") == "redis://:***@host/0?x=@"
    assert (
        redacted("redis+sentinel://u:p@w@s1:1,s2:2/m/0") == "redis+sentinel://u:***@s1:1,s2:2/m/0"
    )
    assert redacted("redis://user@host:1/0") == "redis://user@host:1/0"
