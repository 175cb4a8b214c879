"""``arenas eval <suite>``: play a suite's episodes with one agent, then ingest them.

Each arena's run goes to ``<runs>/<suite>/<arena>/<agent>``; a rerun resumes it (finished
episodes are kept), so an interrupted evaluation loses nothing. Pinned task ids are checked
before the first episode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arenas.config import ConfigError
from arenas.leaderboards.db import ResultsDB
from arenas.leaderboards.ingest import ingest_run
from arenas.leaderboards.suites import Suite, SuiteEntry, check_pinned

MODEL_PREFIXES = ("openai:", "vllm:", "hf:")


@dataclass
class EvalResult:
    arena: str
    run_dir: Path | None
    entry_id: int | None
    summary: dict[str, Any]
    skipped: str = ""
    """Why the arena was not played (a policy it does not offer, an extra not installed)."""


def run_configs(suite: Suite, entry: SuiteEntry, agent: str, concurrency: int, options: dict[str, Any]) -> list:
    """The runs of one suite entry (one per opponent of a multi-agent arena), its budgets applied
    (a token budget binds model agents only)."""
    from arenas.rollout import RunConfig

    budgets = suite.budgets
    options = dict(options)
    if "max_episode_tokens" in budgets and agent.startswith(MODEL_PREFIXES):
        options.setdefault("max_episode_tokens", int(budgets["max_episode_tokens"]))
    timeouts = {k: float(budgets[k]) for k in ("agent_timeout_s", "episode_timeout_s") if k in budgets}
    return [RunConfig(arena=entry.arena, agent=agent, n=entry.n, split=entry.split, seed=entry.seed,
                      rollouts=entry.rollouts, concurrency=concurrency, arena_config=arena_config,
                      agent_options=options, **timeouts) for arena_config in entry.configs(suite.arena_config(entry))]


def safe_name(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_")[:60] or "agent"


def run_dir_for(runs: Path, suite: Suite, config: Any) -> Path:
    """``<runs>/<suite>/<arena>/<agent>`` (``.../<agent>/vs-<opponent>`` in a multi-agent arena)."""
    out = runs / suite.id / config.arena / safe_name(config.agent)
    opponent = config.arena_config.get("opponent")
    return out / f"vs-{safe_name(opponent)}" if isinstance(opponent, str) else out


def check_tasks(entry: SuiteEntry, config: Any) -> None:
    from arenas.registry import make

    if not entry.tasks:
        return
    with make(config.arena, **config.arena_config) as arena:
        check_pinned(entry, [t.id for t in arena.sample_tasks(entry.split, entry.n, entry.seed)])


def evaluate(suite: Suite, agent: str, db: ResultsDB, runs: Path = Path("runs"), arenas: list[str] | None = None,
             concurrency: int = 1, options: dict[str, Any] | None = None, progress: bool = True) -> list[EvalResult]:
    """Runs (or resumes) every selected arena of ``suite`` and ingests each run into ``db``. With no
    ``arenas`` named, an arena the agent cannot play (``heuristic`` where none is offered, an extra
    not installed) is skipped and reported; a named one raises."""
    from arenas.agent_spec import make_agent_factory

    entries = [suite.entry(a) for a in arenas] if arenas else list(suite.entries)
    if not entries:
        raise ConfigError(f"suite {suite.id} has no arenas")
    factory = make_agent_factory(agent, **(options or {}))
    results = []
    for entry in entries:
        try:
            results += _play_entry(suite, entry, agent, factory, db, runs, concurrency, options or {}, progress)
        except (ConfigError, ImportError) as e:
            if arenas:
                raise
            results.append(EvalResult(entry.arena, None, None, {}, skipped=str(e)))
    return results


def _play_entry(suite: Suite, entry: SuiteEntry, agent: str, factory: Any, db: ResultsDB, runs: Path,
                concurrency: int, options: dict[str, Any], progress: bool) -> list[EvalResult]:
    from arenas.rollout import run

    results = []
    for config in run_configs(suite, entry, agent, concurrency, options):
        check_tasks(entry, config)
        out = run_dir_for(runs, suite, config)
        summary = run(config, factory, out=out, resume=True, progress=progress)
        results.append(EvalResult(entry.arena, out, ingest_run(db, out, suite=suite), summary))
    return results
