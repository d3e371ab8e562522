"""Credentials from a secrets folder (compose ``secrets:``), not the environment."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from newsflow.settings import ServiceSettings


def test_a_secret_file_named_like_the_variable_sets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    (tmp_path / "REDIS_URL").write_text("redis://:from-file@redis:6379/0\n", encoding="utf-8")
    (tmp_path / "MONGODB_URL").write_text("mongodb://u:p@mongo:27017/?authSource=admin")
    settings = ServiceSettings(_secrets_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.redis_url == "redis://:from-file@redis:6379/0"
    assert settings.mongodb_url == "mongodb://u:p@mongo:27017/?authSource=admin"


def test_the_environment_wins_over_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "REDIS_URL").write_text("redis://:from-file@redis:6379/0")
    monkeypatch.setenv("REDIS_URL", "redis://:from-env@redis:6379/1")
    assert ServiceSettings(_secrets_dir=tmp_path).redis_url.endswith("@redis:6379/1")  # type: ignore[call-arg]


def test_a_secret_file_is_validated_like_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    (tmp_path / "REDIS_URL").write_text("http://:pw@redis:6379")
    with pytest.raises(ValueError, match="REDIS_URL must start with"):
        ServiceSettings(_secrets_dir=tmp_path)  # type: ignore[call-arg]


def test_no_secrets_folder_means_no_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = ServiceSettings(_secrets_dir=tmp_path / "absent")  # type: ignore[call-arg]
    assert settings.redis_url
