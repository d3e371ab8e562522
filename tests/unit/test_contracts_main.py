"""``python -m newsflow`` is the ``newsflow`` command, without importing the tools."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path
from typing import Any

import pytest

import newsflow.__main__ as module_main

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.tools
def test_python_m_newsflow_is_the_newsflow_script() -> None:
    script = Path(sys.executable).with_name("newsflow")
    as_module = _run(sys.executable, "-m", "newsflow", "--help")
    as_script = _run(str(script), "--help")
    assert as_module.returncode == as_script.returncode == 0, as_module.stderr
    assert as_module.stdout == as_script.stdout
    assert as_module.stdout.startswith("usage: newsflow ")


@pytest.mark.tools
def test_python_m_newsflow_passes_the_exit_code_through() -> None:
    result = _run(sys.executable, "-m", "newsflow", "no-such-command")
    assert result.returncode == 2
    assert "usage: newsflow" in result.stderr


def test_without_the_tools_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(module_main, "entry_points", lambda **_: EntryPoints(()))
    assert module_main.main(["--help"]) == 2
    assert "pip install -e ./tools" in capsys.readouterr().err


def test_an_entry_point_whose_package_is_gone_counts_as_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gone = EntryPoint(
        name="newsflow", value="newsflow_tools_gone.cli:main", group="console_scripts"
    )

    def only_gone(**_: Any) -> EntryPoints:
        return EntryPoints((gone,))

    monkeypatch.setattr(module_main, "entry_points", only_gone)
    assert module_main.find_command() is None
