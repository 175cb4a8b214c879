"""Coverage of the leaderboard's 95% intervals when episodes share tasks.

Simulated boards: T tasks of varying difficulty, G rollouts per task (as GRPO-style evaluation
or a suite with rollouts > 1 plays them). The Student t interval over episodes treats the G
rollouts of a task as independent; the leaderboard's cluster bootstrap resamples tasks. Prints
each method's coverage of the true mean (target 0.95) and the ratio of their miss rates.

    python benchmarks/leaderboard_intervals.py [--boards 400]
"""

from __future__ import annotations

import argparse

import numpy as np

from arenas.leaderboards.ranking import cluster_bootstrap
from arenas.stats import mean_ci


def simulate(boards: int, tasks: int, rollouts: int, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    a, b = 0.6, 0.6  # U-shaped difficulty: many tasks nearly always or never solved
    truth = a / (a + b)
    hits = {"student t over episodes": 0, "cluster bootstrap over tasks": 0}
    for i in range(boards):
        p = rng.beta(a, b, size=tasks)
        outcomes = rng.random((tasks, rollouts)) < p[:, None]
        values = {(f"t{t}", 0, g): float(outcomes[t, g]) for t in range(tasks) for g in range(rollouts)}
        mean, half = mean_ci(list(values.values()))
        hits["student t over episodes"] += abs(mean - truth) <= half
        _, lo, hi = cluster_bootstrap(values, resamples=1000, seed=i)
        hits["cluster bootstrap over tasks"] += lo <= truth <= hi
    return {k: v / boards for k, v in hits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=400)
    args = parser.parse_args()
    print("| tasks | rollouts/task | Student t coverage | cluster bootstrap coverage | miss-rate ratio (t / cluster) |")
    print("|---:|---:|---:|---:|---:|")
    for tasks, rollouts in ((50, 1), (50, 4), (30, 8), (20, 16)):
        cov = simulate(args.boards, tasks, rollouts)
        t, c = cov["student t over episodes"], cov["cluster bootstrap over tasks"]
        ratio = (1 - t) / max(1 - c, 1e-9)
        print(f"| {tasks} | {rollouts} | {t:.3f} | {c:.3f} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
