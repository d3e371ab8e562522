"""The three floors, enforced: imports go only downward.

``newsflow.domain`` is pure (no Redis, MongoDB, broker, environment, processes or
network); ``newsflow`` as a whole never reaches up into a service or the tools; no
service imports another service or the tools; only ``newsflow_tools`` may import
across services. See ``docs/adr/0004-three-floors.md``.

The modules are parsed with ``ast``, never imported, so a forbidden import is caught
even where it would only run on some code path (inside a function, under
``TYPE_CHECKING``, through ``importlib.import_module("...")``). The directories are
walked, so a new module is covered the day it is added.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
SERVICES = ROOT / "services"
TOOLS = ROOT / "tools"
DOMAIN = SHARED / "newsflow" / "domain"

TOOLS_PACKAGE = "newsflow_tools"

# asyncio (and loop / socket) calls that open connections, servers or processes.
NETWORK_CALLS = frozenset(
    {
        "open_connection",
        "open_unix_connection",
        "start_server",
        "start_unix_server",
        "create_connection",
        "create_unix_connection",
        "create_server",
        "create_unix_server",
        "create_datagram_endpoint",
        "sock_connect",
        "sock_accept",
        "getaddrinfo",
        "create_subprocess_exec",
        "create_subprocess_shell",
        "subprocess_exec",
        "subprocess_shell",
    }
)

# What the pure domain may not import: clients, the broker, the environment, processes,
# the network, and every floor above it.
DOMAIN_FORBIDDEN = (
    "redis",
    "hiredis",
    "pymongo",
    "motor",
    "faststream",
    "os",
    "socket",
    "ssl",
    "subprocess",
    "httpx",
    "requests",
    "aiohttp",
    "urllib3",
    "http.client",
    "urllib.request",
    "pydantic_settings",
    "asyncio.streams",
    "asyncio.subprocess",
    *(f"asyncio.{name}" for name in sorted(NETWORK_CALLS)),
    "newsflow.settings",
    "newsflow.runtime",
    TOOLS_PACKAGE,
)


@dataclass(frozen=True)
class Found:
    """One import (or network call) found in a module's source."""

    name: str
    line: int


def _resolve(module: str | None, level: int, package: str) -> str:
    """The absolute name of ``from <level dots><module> import ...`` inside ``package``."""
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        raise ValueError(f"relative import beyond the top package: level {level} in {package!r}")
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[Found]:
    """Every module ``source`` imports, as absolute dotted names.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule).
    Relative imports are resolved against ``module``; string forms passed to
    ``importlib.import_module`` and ``__import__`` count too.
    """
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    import_module_names = {"import_module", "__import__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "importlib" and node.level == 0:
            import_module_names |= {
                alias.asname or alias.name for alias in node.names if alias.name == "import_module"
            }

    found: list[Found] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Found(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, package)
            found.append(Found(base, node.lineno))
            found += [
                Found(f"{base}.{alias.name}", node.lineno)
                for alias in node.names
                if alias.name != "*"
            ]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else None
            )
            first = node.args[0]
            if (
                called in import_module_names
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                name = first.value
                if name.startswith("."):
                    level = len(name) - len(name.lstrip("."))
                    name = _resolve(name[level:] or None, level, package)
                found.append(Found(name, node.lineno))
    return found


def network_calls_in(source: str) -> list[Found]:
    """Attribute uses such as ``asyncio.open_connection`` or ``loop.create_server``."""
    return [
        Found(f".{node.attr}", node.lineno)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in NETWORK_CALLS
    ]


def _matches(name: str, prefixes: Iterable[str]) -> str | None:
    for prefix in prefixes:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return None


@dataclass(frozen=True)
class Module:
    path: Path
    name: str
    is_package: bool

    @property
    def top(self) -> str:
        return self.name.partition(".")[0]

    def imports(self) -> list[Found]:
        source = self.path.read_text(encoding="utf-8")
        return imports_in(source, self.name, is_package=self.is_package)


def modules_under(base: Path, directory: Path) -> Iterator[Module]:
    """Every ``.py`` file under ``directory``, named as a module relative to ``base``."""
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield Module(path, ".".join(parts), is_package)


def service_packages() -> list[str]:
    return sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").is_file())


def violations(modules: Iterable[Module], forbidden: Iterable[str]) -> list[str]:
    forbidden = tuple(forbidden)
    out = []
    for module in modules:
        for found in module.imports():
            hit = _matches(found.name, forbidden)
            if hit is not None:
                where = module.path.relative_to(ROOT)
                out.append(f"{where}:{found.line} imports {found.name} (forbidden: {hit})")
    return sorted(set(out))


# --- the rules ---------------------------------------------------------------------------


def test_the_walk_sees_every_floor() -> None:
    """Guards the rules below against passing because they looked at nothing."""
    assert {
        "newsflow_ingest",
        "newsflow_enrichment",
        "newsflow_storage",
        "newsflow_gateway",
    } <= set(service_packages())
    domain = {m.name for m in modules_under(SHARED, DOMAIN)}
    assert {"newsflow.domain", "newsflow.domain.contract", "newsflow.domain.normalise"} <= domain
    assert any(m.name == TOOLS_PACKAGE for m in modules_under(TOOLS, TOOLS / TOOLS_PACKAGE))


def test_domain_is_pure() -> None:
    forbidden = (*DOMAIN_FORBIDDEN, *service_packages())
    assert violations(modules_under(SHARED, DOMAIN), forbidden) == []


def test_domain_opens_no_connections() -> None:
    calls = [
        f"{m.path.relative_to(ROOT)}:{f.line} uses {f.name}"
        for m in modules_under(SHARED, DOMAIN)
        for f in network_calls_in(m.path.read_text(encoding="utf-8"))
    ]
    assert calls == []


def test_shared_never_imports_a_service_or_the_tools() -> None:
    forbidden = (*service_packages(), TOOLS_PACKAGE)
    assert violations(modules_under(SHARED, SHARED / "newsflow"), forbidden) == []


@pytest.mark.parametrize("service", service_packages())
def test_a_service_imports_no_other_service_nor_the_tools(service: str) -> None:
    others = [s for s in service_packages() if s != service]
    modules = modules_under(SERVICES, SERVICES / service)
    assert violations(modules, [*others, TOOLS_PACKAGE]) == []


# --- the parser behind the rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import redis", "newsflow.domain.x", "redis"),
        ("import os.path", "newsflow.domain.x", "os.path"),
        ("from pymongo import MongoClient", "newsflow.domain.x", "pymongo"),
        ("from newsflow import runtime", "newsflow.domain.x", "newsflow.runtime"),
        ("from ..runtime import worker", "newsflow.domain.x", "newsflow.runtime.worker"),
        (
            "from ...runtime.worker import Done",
            "newsflow.domain.formats.x",
            "newsflow.runtime.worker",
        ),
        ("from . import x", "newsflow_ingest.app", "newsflow_ingest.x"),
        ("from .handlers import x", "newsflow_ingest.app", "newsflow_ingest.handlers.x"),
        ("def f():\n    import subprocess\n", "newsflow.domain.x", "subprocess"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import faststream\n",
            "newsflow.domain.x",
            "faststream",
        ),
        ("import importlib\nimportlib.import_module('httpx')", "newsflow.domain.x", "httpx"),
        (
            "from importlib import import_module as load\nload('newsflow_tools.cli')",
            "newsflow.x",
            "newsflow_tools.cli",
        ),
        (
            "import importlib\nimportlib.import_module('..runtime', __package__)",
            "newsflow.domain.x",
            "newsflow.runtime",
        ),
        ("__import__('socket')", "newsflow.domain.x", "socket"),
        ("from urllib.request import urlopen", "newsflow.domain.x", "urllib.request"),
        ("from asyncio import open_connection", "newsflow.domain.x", "asyncio.open_connection"),
    ],
)
def test_every_import_form_is_seen(source: str, module: str, expected: str) -> None:
    names = {found.name for found in imports_in(source, module)}
    assert expected in names


def test_a_relative_import_beyond_the_top_package_is_an_error() -> None:
    with pytest.raises(ValueError, match="beyond the top package"):
        imports_in("from .. import newsflow_storage", "newsflow_ingest.app")


def test_package_relative_imports_resolve_from_the_package_itself() -> None:
    found = imports_in("from .worker import Done", "newsflow.runtime", is_package=True)
    assert "newsflow.runtime.worker" in {f.name for f in found}


def test_harmless_imports_are_not_forbidden() -> None:
    source = (
        "import re\nimport asyncio\nfrom urllib.parse import urlsplit\n"
        "from newsflow.streams import ITEM_FIELD\nfrom osgeo import x\n"
    )
    names = [f.name for f in imports_in(source, "newsflow.domain.x")]
    assert [n for n in names if _matches(n, DOMAIN_FORBIDDEN)] == []


def test_network_calls_are_seen() -> None:
    source = "import asyncio\nasync def f(loop):\n    await loop.create_connection(x, 'h', 1)\n"
    assert network_calls_in(source) == [Found(".create_connection", 3)]
    assert network_calls_in("asyncio.open_connection('h', 1)") == [Found(".open_connection", 1)]


# --- what importing the lower floors actually loads ----------------------------------------


def test_importing_the_domain_loads_no_client_library() -> None:
    """The package ``__init__`` files re-export names; they must not drag the runtime in."""
    probe = (
        "import sys, newsflow, newsflow.domain, newsflow.events\n"
        "bad = ('redis', 'pymongo', 'faststream', 'httpx', 'newsflow.runtime', 'newsflow_tools')\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in bad"
        " or m.startswith('newsflow.runtime')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"
