"""Benchmark suites: named, versioned data files in ``leaderboards/suites/<name>-v<version>.toml``.

A suite says, for each arena, exactly which episodes an entry must play (split, seed, rollouts,
arena configuration and, where pinned, the task ids), the budgets, and the metric that ranks.
A suite with ``from_manifests = true`` takes its arenas from the manifests' ``[suite]`` tables,
so a new arena joins it without an edit here. Pinned task ids are checked before a run: if an
arena's task generator changed, the suite refuses to run instead of silently comparing different
tasks (publish a new suite version then).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arenas.config import ConfigError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
METRICS = ("mean_reward", "success_rate")
_SUITE_KEYS = {"name", "version", "description", "from_manifests", "seed", "rollouts", "metric", "budgets",
               "arenas"}
_ENTRY_KEYS = {"split", "n", "seed", "rollouts", "config", "tasks", "opponents"}


@dataclass(frozen=True)
class SuiteEntry:
    """What one arena of a suite plays."""

    arena: str
    split: str = "test"
    n: int = 200
    seed: int = 0
    rollouts: int = 1
    config: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    """Pinned task ids in play order (``n`` is their count); empty = the arena's seeded sample."""
    opponents: tuple[str, ...] = ()
    """Multi-agent arenas: the fixed opponent pool (one run per opponent, ``config["opponent"]``)."""

    def configs(self, arena_config: dict[str, Any]) -> list[dict[str, Any]]:
        """The arena configuration of each run this entry needs (one per opponent, if any)."""
        return [{**arena_config, "opponent": o} for o in self.opponents] or [arena_config]

    def matches(self, run_config: dict[str, Any], arena_config: dict[str, Any] | None = None) -> bool:
        """Whether a run (its ``run.json`` config) played this entry's episodes (``arena_config``:
        the entry's configuration with the suite's budgets applied)."""
        return (run_config.get("arena") == self.arena and run_config.get("split") == self.split
                and run_config.get("seed") == self.seed and run_config.get("n") == self.n
                and run_config.get("rollouts", 1) == self.rollouts
                and (run_config.get("arena_config") or {}) in self.configs(self.config if arena_config is None
                                                                           else arena_config))


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    entries: tuple[SuiteEntry, ...]
    description: str = ""
    metric: str = "mean_reward"
    """What ranks entries (errors count as 0): ``mean_reward`` or ``success_rate``."""
    budgets: dict[str, Any] = field(default_factory=dict)
    """``max_turns`` (arena config), ``max_episode_tokens`` (model agents), ``agent_timeout_s``,
    ``episode_timeout_s``."""

    @property
    def id(self) -> str:
        return f"{self.name}-v{self.version}"

    def entry(self, arena: str) -> SuiteEntry:
        for e in self.entries:
            if e.arena == arena:
                return e
        raise ConfigError(f"suite {self.id} has no arena {arena!r}; its arenas: "
                          f"{', '.join(e.arena for e in self.entries) or 'none'}")

    def arena_config(self, entry: SuiteEntry) -> dict[str, Any]:
        """The entry's arena configuration with the suite's turn budget applied."""
        budget = {"max_turns": int(self.budgets["max_turns"])} if "max_turns" in self.budgets else {}
        return {**entry.config, **budget}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "description": self.description,
                "metric": self.metric, "budgets": self.budgets,
                "arenas": {e.arena: {"split": e.split, "n": e.n, "seed": e.seed, "rollouts": e.rollouts,
                                     "config": e.config, "tasks": list(e.tasks), "opponents": list(e.opponents)}
                           for e in self.entries}}


def _entry(arena: str, table: dict[str, Any], defaults: dict[str, Any], where: str) -> SuiteEntry:
    unknown = set(table) - _ENTRY_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} for arena {arena!r}; allowed: {sorted(_ENTRY_KEYS)}")
    tasks = tuple(str(t) for t in table.get("tasks", ()))
    n = int(table.get("n", len(tasks) or 200))
    if tasks and n != len(tasks):
        raise ConfigError(f"{where}: arena {arena!r} pins {len(tasks)} tasks but says n = {n}")
    return SuiteEntry(arena, split=table.get("split", "test"), n=n, seed=int(table.get("seed", defaults["seed"])),
                      rollouts=int(table.get("rollouts", defaults["rollouts"])), config=dict(table.get("config", {})),
                      tasks=tasks, opponents=tuple(str(o) for o in table.get("opponents", ())))


def parse_suite(data: dict[str, Any], where: str = "suite") -> Suite:
    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_SUITE_KEYS)}")
    metric = data.get("metric", "mean_reward")
    if metric not in METRICS:
        raise ConfigError(f"{where}: metric {metric!r} is not one of {', '.join(METRICS)}")
    defaults = {"seed": int(data.get("seed", 0)), "rollouts": int(data.get("rollouts", 1))}
    tables = dict(data.get("arenas", {}))
    if data.get("from_manifests"):
        from arenas.registry import list_arenas

        for spec in list_arenas():
            if spec.suite:
                tables.setdefault(spec.id, spec.suite)
    entries = tuple(_entry(a, t, defaults, where) for a, t in sorted(tables.items()))
    return Suite(str(data["name"]), int(data["version"]), entries, data.get("description", ""), metric,
                 dict(data.get("budgets", {})))


def load_suite(suite_id: str, folder: Path = SUITES_DIR) -> Suite:
    """The suite ``<name>-v<version>`` (a file in ``folder``, or a path to a TOML file)."""
    path = Path(suite_id) if suite_id.endswith(".toml") else folder / f"{suite_id}.toml"
    if not path.exists():
        raise ConfigError(f"unknown suite {suite_id!r}; suites: {', '.join(list_suites(folder)) or 'none'}")
    with open(path, "rb") as f:
        suite = parse_suite(tomllib.load(f), str(path))
    if path.parent == folder and suite.id != path.stem:
        raise ConfigError(f"{path}: the file declares {suite.id}; its name must be {suite.id}.toml")
    return suite


def list_suites(folder: Path = SUITES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def check_pinned(entry: SuiteEntry, planned: list[str]) -> None:
    """Refuses to run when the arena no longer plays the suite's pinned tasks."""
    if entry.tasks and list(entry.tasks) != planned:
        changed = sorted(set(entry.tasks) ^ set(planned))[:5] or ["(same ids, another order)"]
        raise ConfigError(f"arena {entry.arena!r} no longer yields the suite's pinned tasks (e.g. {', '.join(changed)}): "
                          "its task generator changed; publish a new suite version")
