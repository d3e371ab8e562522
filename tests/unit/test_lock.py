"""The lock files cover every declared dependency, with hashes, at allowed versions.

``requirements.lock`` (``make install``) must hold every dependency of both
pyproject files, the ``[dev]`` extra included; ``requirements-runtime.lock`` (the
service image) the runtime ones, at the same versions. A dependency added to a
pyproject without ``make lock`` fails here, naming it, rather than on a fresh clone.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
#: Our own packages: installed from the working tree, never from the lock.
OURS = {"newsflow", "newsflow-tools"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;([^\\]*))?\s*\\?$")


@dataclass
class Pin:
    version: Version
    marker: Marker | None
    hashes: int = 0

    def applies_here(self) -> bool:
        return self.marker is None or self.marker.evaluate()


def locked(name: str) -> dict[str, list[Pin]]:
    """Each package of the lock file: its pins (one per environment marker), with hashes."""
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            marker = Marker(match[3].strip()) if match[3] else None
            current = Pin(Version(match[2]), marker)
            pins.setdefault(canonicalize_name(match[1]), []).append(current)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current.hashes += 1
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{name}: unexpected line {line!r}")
    return pins


def here(pins: dict[str, list[Pin]]) -> dict[str, Version]:
    """The version of each package that installs on this interpreter and platform."""
    found: dict[str, Version] = {}
    for name, options in pins.items():
        applying = [p.version for p in options if p.applies_here()]
        assert len(applying) <= 1, f"{name}: several pins apply here: {applying}"
        if applying:
            found[name] = applying[0]
    return found


def declared(*, dev: bool, tools: bool) -> list[Requirement]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in root["dependencies"]]
    if dev:
        found += [Requirement(r) for r in root["optional-dependencies"]["dev"]]
    if tools:
        tool = tomllib.loads((ROOT / "tools" / "pyproject.toml").read_text(encoding="utf-8"))
        found += [Requirement(r) for r in tool["project"]["dependencies"]]
    return [r for r in found if canonicalize_name(r.name) not in OURS]


def unlocked(
    pins: dict[str, Version], requirements: list[Requirement]
) -> tuple[list[str], list[str]]:
    """(requirements missing from the lock, requirements locked outside their range),
    for the requirements that apply here (by their markers)."""
    missing, outside = [], []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            missing.append(str(requirement))
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            outside.append(f"{requirement} (locked {pins[name]})")
    return missing, outside


@pytest.mark.parametrize(
    ("lock", "dev_and_tools"),
    [("requirements.lock", True), ("requirements-runtime.lock", False)],
)
def test_every_declared_dependency_is_locked_at_an_allowed_version(
    lock: str, dev_and_tools: bool
) -> None:
    requirements = declared(dev=dev_and_tools, tools=dev_and_tools)
    assert len(requirements) > 15  # the pyproject files were read
    missing, outside = unlocked(here(locked(lock)), requirements)
    assert not missing, f"not in {lock}; run `make lock`: {missing}"
    assert not outside, f"locked outside the declared range; run `make lock`: {outside}"


def test_a_dependency_added_without_make_lock_is_named() -> None:
    pins = here(locked("requirements.lock"))
    added = [Requirement("jinja2-but-not-locked>=3"), Requirement("fastapi>=9999")]
    missing, outside = unlocked(pins, [*declared(dev=True, tools=True), *added])
    assert missing == ["jinja2-but-not-locked>=3"]
    assert outside == [f"fastapi>=9999 (locked {pins['fastapi']})"]


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-runtime.lock"])
def test_every_locked_package_has_a_hash_and_ours_are_left_out(lock: str) -> None:
    pins = locked(lock)
    assert len(pins) > 20  # the parser found the entries
    assert not [name for name, options in pins.items() for p in options if p.hashes == 0]
    assert not OURS & pins.keys()


def test_the_image_lock_pins_the_versions_make_install_pins() -> None:
    everything, runtime = (
        here(locked("requirements.lock")),
        here(locked("requirements-runtime.lock")),
    )
    assert runtime == {name: everything[name] for name in runtime}


def test_this_environment_holds_exactly_the_locked_versions() -> None:
    """What `make install` promises: every package the lock pins for this interpreter
    is installed at that version (run `make install` after the lock changed)."""
    wrong = {}
    for name, version in here(locked("requirements.lock")).items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = f"locked {version}, installed {installed}"
    assert not wrong
