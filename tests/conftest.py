"""Shared test configuration: hypothesis profiles, and the ``store`` fixture.

``HYPOTHESIS_PROFILE=ci`` runs more examples, derandomised (a green run is reproducible) and
prints the blob that replays a failure; the default ``dev`` profile is fast.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.ports import TicketStore

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TicketStore:
    """Each reference store in turn: the in-memory one and a fresh SQLite file."""
    if request.param == "memory":
        return InMemoryTicketRepository()
    return SQLiteTicketRepository(tmp_path / "desk.sqlite3")
