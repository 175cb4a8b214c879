"""Summary statistics, checked against independent computations (scipy's t quantiles, sums by hand)."""

import math

import pytest

from arenas.stats import mean_ci, summarize, t975
from arenas.trajectory import Trajectory, Turn


@pytest.mark.parametrize("df", [1, 2, 3, 9, 10, 11, 29, 30, 31, 45, 60, 119, 120, 500])
def test_t_quantiles_are_never_smaller_than_the_exact_ones(df):
    from scipy.stats import t

    exact = t.ppf(0.975, df)
    assert exact <= t975(df) < exact * 1.07  # a table rounded up: intervals err on the wide side


def test_t_quantile_edges():
    assert math.isnan(t975(0)) and math.isnan(t975(-3))
    assert t975(1) == 12.707 and t975(10_000) == 1.98


def test_mean_ci_matches_a_hand_computation():
    values = [1.0, 2.0, 4.0, 9.0]
    mean, half = mean_ci(values)
    sd = math.sqrt(sum((v - 4.0) ** 2 for v in values) / 3)
    assert mean == 4.0 and half == pytest.approx(3.183 * sd / 2)
    assert mean_ci([5.0])[0] == 5.0 and math.isnan(mean_ci([5.0])[1])
    assert all(math.isnan(x) for x in mean_ci([]))


def _traj(task, reward=0.0, error=None, success=False, turns=(), components=None, tokens=None,
          termination="submitted", invalid=0):
    return Trajectory("a", 0, task, "test", 0, 0, "x", reward=reward, error=error, success=success,
                      turns=[Turn(i, [], {}, 0.0, {"invalid_action": bad}) for i, bad in enumerate(turns)],
                      breakdown={"components": components} if components else None,
                      token_counts=tokens or {}, termination=termination, invalid_actions=invalid)


def test_every_field_of_a_summary():
    trajs = [_traj("t1", 1.0, success=True, turns=[False, True, False], components={"c": 1.0}, invalid=1,
                   tokens={"prompt": 10, "completion": 5}),
             _traj("t2", 0.5, turns=[False], components={"c": 0.0}, termination="max_turns"),
             _traj("t3", error="boom", termination="error", tokens={"prompt": 7})]
    s = summarize(trajs, elapsed_s=2.0)
    assert s["episodes"] == 3 and s["errors"] == 1
    assert s["mean_reward"] == pytest.approx(0.5) and s["mean_reward_finished"] == pytest.approx(0.75)
    assert s["ci95"] == pytest.approx(mean_ci([1.0, 0.5, 0.0])[1])
    assert s["success_rate"] == pytest.approx(1 / 3)
    assert s["invalid_action_rate"] == pytest.approx(1 / 4) and s["mean_turns"] == 2.0
    assert s["components"] == {"c": 0.5}
    assert s["tokens"] == 22 and s["tokens_per_s"] == 11.0 and s["episodes_per_s"] == 1.5 and s["elapsed_s"] == 2.0
    assert s["terminations"] == {"submitted": 1, "max_turns": 1, "error": 1}


def test_a_summary_of_nothing():
    s = summarize([])
    assert s["episodes"] == 0 and math.isnan(s["mean_reward"]) and math.isnan(s["success_rate"])
    assert s["invalid_action_rate"] == 0.0 and math.isnan(s["mean_turns"]) and "elapsed_s" not in s
