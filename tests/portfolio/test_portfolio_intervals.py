"""Intervals over overlapping episode windows: a moving-block bootstrap over time, named in the
run summary, wider than the Student t interval that treats the windows as independent."""

import numpy as np

import arenas
from arenas.stats import block_bootstrap_ci, mean_ci, overlap_block, summarize
from arenas.trajectory import Trajectory


def test_block_bootstrap_matches_t_on_independent_data_and_widens_on_dependent_data():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=400).tolist()
    assert 0.85 < block_bootstrap_ci(iid, 1) / mean_ci(iid)[1] < 1.15
    runs = np.repeat(rng.normal(size=40), 10).tolist()  # ten copies of each draw, like overlapping windows
    assert block_bootstrap_ci(runs, 10) / mean_ci(runs)[1] > 2.0
    assert block_bootstrap_ci(iid, 5) == block_bootstrap_ci(iid, 5)  # seeded


def test_overlap_block_counts_windows_running_at_once():
    assert overlap_block([(t, t + 10) for t in range(0, 100, 10)]) == 1
    assert overlap_block([(t, t + 50) for t in range(0, 100, 10)]) >= 3


def _trajectory(i, span, reward):
    return Trajectory("portfolio", 0, f"t{i}", "test", 0, 0, "x", reward=reward,
                      breakdown={"total": reward, "components": {}, "details": {"time_span": span}})


def test_summary_uses_the_block_bootstrap_when_episodes_report_their_windows():
    arena = arenas.make("portfolio", split="test", rebalance="monthly", horizon_days=126, tasks_per_split=3)
    task = arena.tasks("test")[0]
    obs, policy = arena.reset(task, seed=0), arena.policy("heuristic")
    while not (result := arena.step(policy(obs))).done:
        obs = result.observation
    span = result.info["reward_breakdown"]["details"]["time_span"]
    assert span == [task.reference["t0"], task.reference["t0"] + 6 * 21]
    rewards = np.repeat(np.random.default_rng(1).normal(size=8), 8)
    trajs = [_trajectory(i, [i, i + 8], float(r)) for i, r in enumerate(rewards)]
    s = summarize(trajs)
    assert s["ci95_method"].startswith("moving-block bootstrap") and s["ci95"] > 1.5 * mean_ci(list(rewards))[1]
    plain = summarize([Trajectory("x", 0, f"t{i}", "test", 0, 0, "x", reward=float(r)) for i, r in enumerate(rewards)])
    assert plain["ci95_method"] == "student t" and plain["ci95"] == mean_ci(list(rewards))[1]
