"""Fixtures of the GUI arena tests: one arena (one browser context) shared by a module's tests.
Without Playwright, the ``miniwob`` package or Chromium the browser tests skip (the verifier
tests still run); the install step brings all three."""

import importlib.util

import pytest

from arenas.gui.browser import chromium_path


def _missing() -> str | None:
    for module in ("playwright", "miniwob"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'arenas[gui]')"
    try:
        chromium_path()
    except FileNotFoundError as e:
        return str(e)
    return None


MISSING = _missing()


@pytest.fixture(autouse=True)
def _needs_browser(request):
    if MISSING and not request.module.__name__.endswith("test_verifier"):
        pytest.skip(MISSING)


@pytest.fixture(scope="module")
def arena():
    from arenas.gui.arena import GUIArena

    a = GUIArena(max_turns=40)
    yield a
    a.close()
