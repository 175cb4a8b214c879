"""Builds the migration venvs and validated tasks once per machine (cached under $ARENAS_HOME)."""

import pytest


@pytest.fixture(scope="session")
def built():
    from arenas.migration.cli import build_all

    return build_all(progress=False)
