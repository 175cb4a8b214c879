"""Shared fixtures: one Showdown server for the whole session (its first login warms it up)."""

from __future__ import annotations

import pytest

from arenas.pokemon import server


def _installed() -> str:
    try:
        server.node_binary()
        server.package_dir()
    except server.ShowdownError as e:
        return str(e)
    return ""


requires_showdown = pytest.mark.skipif(bool(_installed()), reason=_installed() or "installed")


@pytest.fixture(scope="session")
def showdown():
    """Keeps the process's shared server alive across test modules."""
    lease = server.acquire()
    yield lease.server
    lease.release()
