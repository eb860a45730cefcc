"""The public API (P7 packaging): the curated ``deskcore`` namespace, and what importing it
costs. Importing deskcore must not import hypothesis, the SQLite adapter, the CLI, the testing
kit or the pydantic edge models."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import deskcore


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then everything else.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_P7_all_names_exist() -> None:
    """Every name in ``deskcore.__all__`` is importable from ``deskcore``."""
    missing = [name for name in deskcore.__all__ if not hasattr(deskcore, name)]
    assert not missing


def test_P7_all_is_sorted_and_unique() -> None:
    """``deskcore.__all__`` has no duplicates and is kept sorted."""
    names = list(deskcore.__all__)
    assert len(names) == len(set(names))
    assert names == sorted(names, key=_isort_key)


def test_P7_public_classes_come_from_public_modules() -> None:
    """Re-exported classes and functions live in public (non-underscore) modules, except the
    frozen mapping whose home is private by design."""
    for name in deskcore.__all__:
        obj = getattr(deskcore, name)
        module = getattr(obj, "__module__", None)
        if module is None or not module.startswith("deskcore"):
            continue
        private = [part for part in module.split(".") if part.startswith("_")]
        assert not private or name == "FrozenMap", (name, module)


def test_P7_version_matches_the_distribution() -> None:
    """``deskcore.__version__`` is the installed distribution's version."""
    assert deskcore.__version__ == importlib.metadata.version("deskcore")


def test_P7_ships_py_typed() -> None:
    """The package is marked as typed."""
    assert (Path(deskcore.__file__).parent / "py.typed").is_file()


FORBIDDEN_ON_IMPORT = (
    "hypothesis",
    "sqlite3",
    "_sqlite3",
    "deskcore.adapters.sqlite",
    "deskcore.cli",
    "deskcore.testing",
    "pydantic",
    "deskcore.wire",
    "pytest",
)


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    # A fresh interpreter without coverage measurement (coverage itself imports sqlite3).
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return set(json.loads(done.stdout))


def test_P7_import_deskcore_stays_light() -> None:
    """Importing deskcore imports neither hypothesis nor the SQLite adapter, the CLI, the
    testing kit, pydantic or the wire models (acceptance item)."""
    loaded = _modules_after("import deskcore")
    assert "deskcore" in loaded
    heavy = {
        name
        for name in loaded
        for forbidden in FORBIDDEN_ON_IMPORT
        if name == forbidden or name.startswith(forbidden + ".")
    }
    assert not heavy


def test_P7_import_adapters_does_not_load_sqlite() -> None:
    """``import deskcore.adapters`` loads the SQLite adapter only when it is first used."""
    loaded = _modules_after("import deskcore.adapters")
    assert "deskcore.adapters.memory" in loaded
    assert "deskcore.adapters.sqlite" not in loaded
    assert "sqlite3" not in loaded


@pytest.mark.parametrize("module", ["deskcore.testing", "deskcore.testing.fakes"])
def test_P7_testing_fakes_need_no_hypothesis(module: str) -> None:
    """The fakes of the testing kit import without hypothesis; only the strategies need it."""
    loaded = _modules_after(f"import {module}")
    assert "hypothesis" not in loaded
