"""Benchmark suites: which (arena, split, tasks, seed, config) a leaderboard entry must run.

A suite is data, so a result can be checked against it: an entry counts for a suite only if
its run.json matches the suite's run identity (same arena, split, seed, n and config).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SuiteEntry:
    arena: str
    split: str = "test"
    n: int = 200
    seed: int = 0
    rollouts: int = 1
    config: dict[str, Any] = field(default_factory=dict)

    def matches(self, run_config: dict[str, Any]) -> bool:
        return (run_config.get("arena") == self.arena and run_config.get("split") == self.split
                and run_config.get("seed") == self.seed and run_config.get("n") == self.n
                and run_config.get("rollouts", 1) == self.rollouts
                and (run_config.get("arena_config") or {}) == self.config)


def core_suite() -> list[SuiteEntry]:
    """``core-v0``: every arena whose manifest has a ``[suite]`` table, with those defaults."""
    from arenas.registry import list_arenas

    return [SuiteEntry(spec.id, **spec.suite) for spec in list_arenas() if spec.suite]


SUITES: dict[str, list[SuiteEntry]] = {
    "core-v0": core_suite(),
    "sql-v0": [SuiteEntry("sql", split="test", n=500), SuiteEntry("sql", split="dev", n=200)],
}
