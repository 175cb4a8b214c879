"""Leaderboards: versioned suites, a verified results database, ranking with statistics that
respect dependence, a static site and trajectory export.

Names are imported on first use, so ``arenas`` commands register without the leaderboard's
optional dependencies (SQLAlchemy, matplotlib, pandas) installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ResultsDB": "db", "RejectedEntry": "ingest", "ingest_run": "ingest", "load_boards": "results",
            "render_markdown": "results", "Suite": "suites", "SuiteEntry": "suites", "list_suites": "suites",
            "load_suite": "suites"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
