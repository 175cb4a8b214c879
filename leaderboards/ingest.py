"""Ingestion: a run folder (``run.json`` + ``episodes.jsonl``) becomes a database entry only after
every finished episode has been re-scored from its trajectory by the arena's verifier.

Nothing recorded is trusted: summaries are recomputed from the episodes, the step rewards must
sum to the episode's return, and ``Arena.rescore(task, turns)`` must give the same total. An
entry with any disagreement (an edited file, another verifier version) is rejected with the
episodes named. An arena that cannot rescore (a third-party arena without ``rescore``) is
accepted as *unverified*, and the board says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arenas.config import ConfigError
from arenas.leaderboards.db import Entry, EpisodeRow, ResultsDB
from arenas.leaderboards.suites import Suite, list_suites, load_suite
from arenas.stats import latest_per_key
from arenas.trajectory import Trajectory, read_trajectories

TOLERANCE = 1e-6


class RejectedEntry(ConfigError):
    """The recorded rewards of a run disagree with its re-scored episodes."""


@dataclass
class Verification:
    checked: int = 0
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    """Episode key -> what disagrees."""

    def disagree(self, key: str, why: str) -> None:
        self.mismatches.setdefault(key, []).append(why)
    unverified: str = ""
    """Why the episodes could not be re-scored ('' when they were)."""


def read_run(run_dir: str | Path) -> tuple[dict[str, Any], list[Trajectory]]:
    """``run.json`` and the latest record of each episode key of a run folder."""
    run_dir = Path(run_dir)
    for name in ("run.json", "episodes.jsonl"):
        if not (run_dir / name).exists():
            raise ConfigError(f"{run_dir} is not a run folder: {name} is missing")
    record = json.loads((run_dir / "run.json").read_text())
    return record, latest_per_key(read_trajectories(run_dir / "episodes.jsonl"))


def verify(config: dict[str, Any], trajectories: list[Trajectory]) -> Verification:
    """Re-scores every finished episode with the arena's verifier (and checks the step rewards)."""
    finished = [t for t in trajectories if t.error is None]
    out = _rescore(config, finished)
    for t in finished:
        steps = sum(turn.reward for turn in t.turns)
        if not math.isclose(steps, t.reward, abs_tol=TOLERANCE):
            out.disagree(t.key, f"step rewards sum to {steps:.6g}, recorded return {t.reward:.6g}")
    return out


def _rescore(config: dict[str, Any], trajectories: list[Trajectory]) -> Verification:
    from arenas.registry import make

    out = Verification()
    try:
        arena = make(config["arena"], **(config.get("arena_config") or {}))
    except ImportError as e:
        out.unverified = f"the arena could not be made to re-score: {e}"
        return out
    with arena:
        tasks = {task.id: task for task in arena.tasks(config["split"])}
        for t in trajectories:
            task = tasks.get(t.task_id)
            if task is None:
                out.disagree(t.key, f"no task {t.task_id!r} in split {config['split']!r}")
                continue
            try:
                rescored = arena.rescore(task, [asdict(turn) for turn in t.turns])
            except NotImplementedError as e:
                out.unverified = str(e)
                return out
            out.checked += 1
            recorded = [("return", t.reward)] + ([("breakdown total", t.breakdown.get("total"))] if t.breakdown else [])
            for what, value in recorded:
                if value is None or not math.isclose(rescored.total, value, rel_tol=1e-9, abs_tol=TOLERANCE):
                    out.disagree(t.key, f"recorded {what} {value!r}, re-scored {rescored.total:.6g}")
                    break
    return out


def suite_of(config: dict[str, Any], trajectories: list[Trajectory], suites: list[Suite]) -> Suite | None:
    """The first suite whose settings this run played in full: every episode (an unfinished or
    trimmed run counts for no suite) and every pinned task."""
    played = {t.task_id for t in trajectories}
    for suite in suites:
        for entry in suite.entries:
            if (entry.matches(config, suite.arena_config(entry)) and len(trajectories) >= entry.n * entry.rollouts
                    and (not entry.tasks or set(entry.tasks) <= played)):
                return suite
    return None


def _finite(components: dict[str, Any] | None) -> dict[str, Any] | None:
    """Components as strict JSON (PostgreSQL's JSON refuses NaN): non-finite numbers become None."""
    if components is None:
        return None
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in components.items()}


def episode_rows(trajectories: list[Trajectory]) -> list[EpisodeRow]:
    return [EpisodeRow(task_id=t.task_id, seed=t.seed, rollout=t.rollout, reward=float(t.reward),
                       success=bool(t.success) and t.error is None, error=t.error, termination=t.termination or "",
                       invalid_actions=t.invalid_actions, turns=len(t.turns),
                       seconds=float((t.timings or {}).get("total_s", 0.0)),
                       components=_finite((t.breakdown or {}).get("components")),
                       tokens=int(sum((t.token_counts or {}).values())))
            for t in sorted(trajectories, key=lambda t: (t.task_id, t.seed, t.rollout))]


def ingest_run(db: ResultsDB, run_dir: str | Path, suite: Suite | None = None,
               suites: list[Suite] | None = None) -> int:
    """Verifies a run folder and stores it; returns the entry id. With ``suite`` the run must
    match it; otherwise it is filed under the first of ``suites`` it matches (or none)."""
    record, trajs = read_run(run_dir)
    config = record["config"]
    if not trajs:
        raise ConfigError(f"{run_dir}: no episodes")
    if suite is not None and suite_of(config, trajs, [suite]) is None:
        raise ConfigError(f"{run_dir}: the run does not match suite {suite.id} (arena, split, seed, n, rollouts, "
                          "config and pinned tasks must all agree, and every episode must be played)")
    found = suite or suite_of(config, trajs, suites if suites is not None else [load_suite(s) for s in list_suites()])
    check = verify(config, trajs)
    if check.mismatches:
        shown = "; ".join(f"{k}: {', '.join(v)}" for k, v in list(check.mismatches.items())[:10])
        more = f" (and {len(check.mismatches) - 10} more)" if len(check.mismatches) > 10 else ""
        raise RejectedEntry(f"{run_dir}: rejected, {len(check.mismatches)} episode(s) disagree with the "
                            f"verifier: {shown}{more}")
    summary = record.get("summary") or {}
    entry = Entry(suite=found.id if found else None, arena=config["arena"], arena_version=trajs[0].arena_version,
                  split=config["split"], seed=config.get("seed", 0), rollouts=config.get("rollouts", 1), config=config,
                  config_hash=record.get("config_hash", ""), identity_hash=record.get("identity_hash", ""),
                  git=record.get("git"), packages=record.get("packages") or {}, hardware=record.get("hardware"),
                  run_dir=str(Path(run_dir).resolve()), started=record.get("started", ""),
                  verified=not check.unverified, note=check.unverified,
                  elapsed_s=float(summary.get("elapsed_s") or 0.0), episodes=episode_rows(trajs))
    return db.add_entry(entry, config["agent"], found.to_dict() if found else None)


def find_runs(roots: list[str | Path]) -> list[Path]:
    """Every run folder at or under the given paths."""
    found: list[Path] = []
    for root in map(Path, roots):
        found += sorted(p.parent for p in root.rglob("run.json") if (p.parent / "episodes.jsonl").exists())
    return found
