"""The public names of ``newsflow``, ``newsflow.domain`` and ``newsflow.runtime``.

Each package declares what it offers in ``__all__``. The expected lists are written
out here so that removing or renaming a public name is a visible decision (this test
fails and has to be edited with it), never an accident of a refactoring.
"""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "newsflow": ["__version__", "events", "settings", "streams"],
    "newsflow.domain": [
        "NewsItem",
        "PublisherItem",
        "Rejection",
        "Tag",
        "Tagger",
        "Tags",
        "Taxonomy",
        "formats",
        "identity_key",
        "load_taxonomy",
        "normalise",
    ],
    "newsflow.runtime": [
        "ITEMS",
        "ITEM_INDEXES",
        "Done",
        "Entry",
        "Failed",
        "Outcome",
        "TransientError",
        "Worker",
        "WorkerMetrics",
        "build_worker",
        "configure_logging",
        "create_broker",
        "create_mongo_client",
        "create_redis",
        "deadletters",
        "ensure_indexes",
        "group_state",
        "keys",
        "load_settings",
        "run_worker",
    ],
}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_all_is_the_expected_list(package: str) -> None:
    declared = importlib.import_module(package).__all__
    assert len(declared) == len(set(declared)), "a name is listed twice"
    assert sorted(declared) == sorted(EXPECTED[package])


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_every_public_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_star_import_gives_exactly_the_public_names(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(EXPECTED[package])


def test_re_exports_are_the_objects_of_their_home_modules() -> None:
    """A re-export is the same object, not a copy that could drift."""
    from newsflow import domain, runtime
    from newsflow.domain import tagging
    from newsflow.runtime import worker

    assert domain.Tagger is tagging.Tagger
    assert runtime.Done is worker.Done
    assert runtime.keys is importlib.import_module("newsflow.runtime.keys")
