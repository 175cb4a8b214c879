"""Summary statistics of a run: mean reward with a 95% confidence interval and rates."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from arenas.trajectory import Trajectory

# two-sided 97.5% quantiles of Student's t for small n (df = n - 1); normal beyond
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000,
         120: 1.980}


def t975(df: int) -> float:
    if df <= 0:
        return float("nan")
    for k in sorted(_T975):
        if df <= k:
            return _T975[k]
    return 1.96


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (Student t)."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(values) / n
    if n == 1:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, t975(n - 1) * math.sqrt(var / n)


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
    mean, ci = mean_ci([t.reward if t.error is None else 0.0 for t in trajs])
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
        "mean_reward_finished": mean_ci([t.reward for t in ok])[0],
        "success_rate": (sum(t.success for t in ok) / len(trajs)) if trajs else float("nan"),
        "invalid_action_rate": invalid / turns if turns else 0.0,
        "mean_turns": turns / len(ok) if ok else float("nan"),
        "components": {k: sum(v) / len(v) for k, v in components.items()},
        "tokens": tokens,
        "terminations": _count(t.termination or ("error" if t.error else "") for t in trajs),
    }
    if elapsed_s:
        out["elapsed_s"] = elapsed_s
        out["episodes_per_s"] = len(trajs) / elapsed_s
        out["tokens_per_s"] = tokens / elapsed_s
    return out


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in items:
        counts[i] = counts.get(i, 0) + 1
    return counts
