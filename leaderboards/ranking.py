"""Ranking with statistics that respect dependence between episodes.

Episodes of one task are not independent (rollouts of a task, or two agents on the same task,
share its difficulty), so intervals come from a *cluster* bootstrap that resamples tasks, and
neighbours in a ranking are compared with a *paired* cluster bootstrap over the episodes both
played (same task, seed and rollout). Errored episodes count as 0 and as failures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arenas.leaderboards.db import Entry, EpisodeRow

RESAMPLES = 2000
ALPHA = 0.05


def metric_value(episode: EpisodeRow, metric: str) -> float:
    if metric == "success_rate":
        return float(episode.success and not episode.error)
    return episode.score


def _clusters(values: dict[tuple[str, int, int], float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-task sums and counts of the values keyed by (task, seed, rollout)."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for (task, _, _), v in values.items():
        sums[task] += v
        counts[task] += 1
    keys = sorted(sums)
    return np.array([sums[k] for k in keys]), np.array([counts[k] for k in keys], dtype=float)


def cluster_bootstrap(values: dict[tuple[str, int, int], float], resamples: int = RESAMPLES,
                      seed: int = 0) -> tuple[float, float, float]:
    """Mean and its 95% percentile interval from resampling whole tasks."""
    if not values:
        return math.nan, math.nan, math.nan
    sums, counts = _clusters(values)
    mean = float(sums.sum() / counts.sum())
    if len(sums) < 2:
        return mean, math.nan, math.nan
    idx = np.random.default_rng(seed).integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    lo, hi = np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2])
    return mean, float(lo), float(hi)


def paired_difference(a: dict[tuple[str, int, int], float], b: dict[tuple[str, int, int], float],
                      resamples: int = RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Mean of ``a - b`` over the episodes both played, its 95% interval and a two-sided p-value
    (paired bootstrap over tasks). ``pairs`` = 0 when the two share no episode."""
    common = sorted(set(a) & set(b))
    if not common:
        return {"pairs": 0, "diff": math.nan, "lo": math.nan, "hi": math.nan, "p": math.nan}
    diff = {k: a[k] - b[k] for k in common}
    mean, lo, hi = cluster_bootstrap(diff, resamples, seed)
    sums, counts = _clusters(diff)
    if len(sums) < 2:
        p = math.nan
    else:
        idx = np.random.default_rng(seed + 1).integers(0, len(sums), size=(resamples, len(sums)))
        # the bootstrap distribution shifted to the null (mean 0): how often it is as extreme
        centred = sums[idx].sum(axis=1) / counts[idx].sum(axis=1) - mean
        p = float(min(1.0, (np.sum(np.abs(centred) >= abs(mean)) + 1) / (resamples + 1)))
    return {"pairs": len(common), "diff": mean, "lo": lo, "hi": hi, "p": p}


@dataclass
class Standing:
    """One entry's row in an arena's ranking."""

    entry: Entry
    rank: int
    value: float
    lo: float
    hi: float
    episodes: int
    errors: int
    success_rate: float
    invalid_actions: int
    turns: int
    tokens: int
    seconds: float
    components: dict[str, float] = field(default_factory=dict)
    versus_next: dict[str, Any] | None = None
    """The paired comparison with the entry ranked just below."""

    @property
    def distinguishable_from_next(self) -> bool | None:
        if self.versus_next is None:
            return None
        p = self.versus_next["p"]
        return bool(self.versus_next["pairs"]) and not math.isnan(p) and p < ALPHA


def episode_values(entry: Entry, metric: str) -> dict[tuple[str, int, int], float]:
    return {(e.task_id, e.seed, e.rollout): metric_value(e, metric) for e in entry.episodes}


def standing(entry: Entry, metric: str, rank: int = 0) -> Standing:
    eps = entry.episodes
    value, lo, hi = cluster_bootstrap(episode_values(entry, metric))
    finished = [e for e in eps if not e.error]
    components: dict[str, list[float]] = defaultdict(list)
    for e in finished:
        for name, v in (e.components or {}).items():
            if isinstance(v, (int, float)):
                components[name].append(float(v))
    return Standing(entry, rank, value, lo, hi, len(eps), len(eps) - len(finished),
                    sum(e.success for e in finished) / len(eps) if eps else math.nan,
                    sum(e.invalid_actions for e in finished), sum(e.turns for e in finished),
                    sum(e.tokens for e in eps), sum(e.seconds for e in eps),
                    {k: sum(v) / len(v) for k, v in components.items()})


def rank(entries: list[Entry], metric: str = "mean_reward") -> list[Standing]:
    """Entries of one arena ranked by ``metric``; each carries the paired test with the next."""
    rows = sorted((standing(e, metric) for e in entries),
                  key=lambda s: (-s.value if not math.isnan(s.value) else math.inf, s.entry.agent_spec))
    for i, row in enumerate(rows):
        row.rank = i + 1
        if i + 1 < len(rows):
            row.versus_next = paired_difference(episode_values(row.entry, metric),
                                                episode_values(rows[i + 1].entry, metric))
    return rows


def aggregate(by_arena: dict[str, list[Standing]]) -> list[dict[str, Any]]:
    """Agents that played every arena of a board: mean metric and mean rank across arenas."""
    arenas = sorted(by_arena)
    per_agent: dict[str, dict[str, Standing]] = defaultdict(dict)
    for arena, rows in by_arena.items():
        for row in rows:
            per_agent[row.entry.agent_spec].setdefault(arena, row)
    out = []
    for agent, rows in per_agent.items():
        if set(rows) != set(arenas):
            continue
        out.append({"agent": agent, "arenas": len(rows), "mean": float(np.mean([r.value for r in rows.values()])),
                    "mean_rank": float(np.mean([r.rank for r in rows.values()])),
                    "errors": sum(r.errors for r in rows.values()),
                    "episodes": sum(r.episodes for r in rows.values())})
    return sorted(out, key=lambda d: (d["mean_rank"], -d["mean"]))
