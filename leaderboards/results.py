"""The results index: run folders (run.json + episodes.jsonl) -> leaderboard rows -> Markdown."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arenas.leaderboards.suites import SUITES, SuiteEntry
from arenas.stats import summarize
from arenas.trajectory import read_trajectories


@dataclass
class Result:
    arena: str
    split: str
    agent: str
    episodes: int
    mean_reward: float
    ci95: float
    success_rate: float
    invalid_action_rate: float
    errors: int
    run_dir: str
    config: dict[str, Any]


def load_results(root: str | Path) -> list[Result]:
    """Every run folder under ``root``; summaries are recomputed from the episodes, not trusted
    from run.json, so an edited summary cannot change a leaderboard."""
    results = []
    for run_json in sorted(Path(root).rglob("run.json")):
        episodes = run_json.parent / "episodes.jsonl"
        if not episodes.exists():
            continue
        config = json.loads(run_json.read_text())["config"]
        s = summarize(read_trajectories(episodes))
        results.append(Result(config["arena"], config["split"], config["agent"], s["episodes"], s["mean_reward"],
                              s["ci95"], s["success_rate"], s["invalid_action_rate"], s["errors"],
                              str(run_json.parent), config))
    return results


def in_suite(result: Result, suite: list[SuiteEntry]) -> bool:
    return any(e.matches(result.config) and result.episodes >= e.n * e.rollouts for e in suite)


def render_markdown(results: list[Result], suite: str | None = None) -> str:
    """One table per (arena, split), agents ranked by mean reward."""
    if suite is not None:
        results = [r for r in results if in_suite(r, SUITES[suite])]
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.arena, r.split), []).append(r)
    out = []
    for (arena, split), rows in sorted(groups.items()):
        out.append(f"### {arena} · {split}\n")
        out.append("| rank | agent | reward (95% CI) | success | invalid actions | episodes | errors |")
        out.append("|---:|---|---|---:|---:|---:|---:|")
        rows.sort(key=lambda r: -r.mean_reward if not math.isnan(r.mean_reward) else math.inf)
        for i, r in enumerate(rows, 1):
            ci = "" if math.isnan(r.ci95) else f" ± {r.ci95:.3f}"
            out.append(f"| {i} | `{r.agent}` | {r.mean_reward:.3f}{ci} | {r.success_rate:.1%} | "
                       f"{r.invalid_action_rate:.1%} | {r.episodes} | {r.errors} |")
        out.append("")
    return "\n".join(out)
