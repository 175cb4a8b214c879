"""Summary statistics of a run: mean reward with a 95% confidence interval and rates.

The interval is Student t over episodes, or a moving-block bootstrap over time when the
episodes report their time windows (overlapping windows of one market are not independent)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from arenas.trajectory import Trajectory

# two-sided 97.5% quantiles of Student's t (df = n - 1), rounded up; between keys the smaller df's
# (larger) value is used, so an interval is never narrower than the exact one
_T975 = {1: 12.707, 2: 4.303, 3: 3.183, 4: 2.777, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.307, 9: 2.263, 10: 2.229,
         11: 2.201, 12: 2.179, 13: 2.161, 14: 2.145, 15: 2.132, 16: 2.12, 17: 2.11, 18: 2.101, 19: 2.094,
         20: 2.086, 21: 2.08, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.06, 26: 2.056, 27: 2.052, 28: 2.049,
         29: 2.046, 30: 2.043, 40: 2.022, 60: 2.001, 120: 1.98}


def t975(df: int) -> float:
    if df <= 0:
        return math.nan
    return _T975[max(k for k in _T975 if k <= df)]


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (Student t)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, t975(n - 1) * math.sqrt(var / n)


def block_bootstrap_ci(values: list[float], block: int, n_boot: int = 4000, seed: int = 0) -> float:
    """Half-width of the 95% percentile interval of the mean by a circular moving-block
    bootstrap: ``values`` in time order are resampled in runs of ``block`` neighbours, so
    episodes that share time (overlapping windows) are not counted as independent."""
    x = np.asarray(values)
    n = len(x)
    if n < 2:
        return math.nan
    block = max(1, min(int(block), n))
    blocks = -(-n // block)
    starts = np.random.default_rng(seed).integers(0, n, size=(n_boot, blocks))
    idx = ((starts[:, :, None] + np.arange(block)) % n).reshape(n_boot, blocks * block)[:, :n]
    lo, hi = np.percentile(x[idx].mean(1), [2.5, 97.5])
    return float(hi - lo) / 2


def overlap_block(spans: list[tuple[int, int]]) -> int:
    """Block length for time-ordered windows ``[start, end]``: the mean number of windows that
    start while one is still running (itself included), rounded up."""
    starts = np.sort(np.asarray([s for s, _ in spans]))
    length = float(np.mean([e - s for s, e in spans]))
    # a window starting exactly when another ends does not overlap it (searchsorted's side="left")
    ahead = np.searchsorted(starts, starts + length) - np.arange(len(starts))
    return max(1, math.ceil(float(ahead.mean())))


def _interval(trajs: list[Trajectory], rewards: list[float]) -> tuple[float, str]:
    """The 95% half-width and how it was computed: a block bootstrap over time when every
    episode reports its window (``details["time_span"]``), else Student t."""
    spans = [((t.breakdown or {}).get("details") or {}).get("time_span") for t in trajs]
    if len(trajs) < 2 or not all(spans):
        return mean_ci(rewards)[1], "student t"
    order = sorted(range(len(trajs)), key=lambda i: (spans[i][0], trajs[i].key))
    block = overlap_block([tuple(spans[i]) for i in order])
    return (block_bootstrap_ci([rewards[i] for i in order], block),
            f"moving-block bootstrap over time (block of {block} episodes)")


def latest_per_key(trajectories: Iterable[Trajectory]) -> list[Trajectory]:
    """The last record of each (task, seed, rollout) key: a resumed run may have retried one."""
    by_key: dict[str, Trajectory] = {}
    for t in trajectories:
        by_key[t.key] = t
    return list(by_key.values())


def summarize(trajectories: Iterable[Trajectory], elapsed_s: float | None = None) -> dict[str, Any]:
    """The headline (``mean_reward``, ``ci95``, ``success_rate``) counts an errored episode as
    reward 0 and a failure: an agent that crashes cannot rank above one that finishes.
    ``mean_reward_finished`` is the mean over the episodes that finished; components, turns and
    the invalid-action rate are over finished episodes too."""
    trajs = latest_per_key(trajectories)
    ok = [t for t in trajs if t.error is None]
    rewards = [t.reward if t.error is None else 0.0 for t in trajs]
    mean = mean_ci(rewards)[0]
    ci, method = _interval(trajs, rewards)
    turns = sum(len(t.turns) for t in ok)
    invalid = sum(t.invalid_actions for t in ok)
    components: dict[str, list[float]] = {}
    for t in ok:
        for name, value in ((t.breakdown or {}).get("components") or {}).items():
            components.setdefault(name, []).append(float(value))
    tokens = sum(sum((t.token_counts or {}).values()) for t in trajs)
    out: dict[str, Any] = {
        "episodes": len(trajs),
        "errors": len(trajs) - len(ok),
        "mean_reward": mean,
        "ci95": ci,
        "ci95_method": method,
        "mean_reward_finished": mean_ci([t.reward for t in ok])[0],
        "success_rate": (sum(t.success for t in ok) / len(trajs)) if trajs else math.nan,
        "invalid_action_rate": invalid / turns if turns else 0.0,
        "mean_turns": turns / len(ok) if ok else math.nan,
        "components": {k: sum(v) / len(v) for k, v in components.items()},
        "tokens": tokens,
        "terminations": dict(Counter(t.termination or ("error" if t.error else "") for t in trajs)),
    }
    if elapsed_s:
        out["elapsed_s"] = elapsed_s
        out["episodes_per_s"] = len(trajs) / elapsed_s
        out["tokens_per_s"] = tokens / elapsed_s
    return out
