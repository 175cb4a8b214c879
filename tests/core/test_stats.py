"""Summary statistics, checked against independent computations (scipy's t quantiles, sums by hand)."""

import math

import numpy as np
import pytest

from arenas.stats import block_bootstrap_ci, mean_ci, overlap_block, summarize, t975
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
             # crashed after earning 0.4 in three turns: a zero in the headline, left out of the rest
             _traj("t3", 0.4, error="boom", success=True, turns=[True, True, True], invalid=3, components={"c": 9.0},
                   termination="", tokens={"prompt": 7}),
             _traj("t4", 0.25, success=True, turns=[False, False], components={"c": 0.5, "d": 2.0}),
             _traj("t5", 0.0, termination="")]
    s = summarize(trajs, elapsed_s=2.0)
    assert s["episodes"] == 5 and s["errors"] == 1
    # headline rewards 1, 0.5, 0, 0.25, 0: mean 0.35, sample variance 0.7 / 4, t(df=4) = 2.777 in the table
    assert s["mean_reward"] == pytest.approx(0.35) and s["ci95"] == pytest.approx(2.777 * math.sqrt(0.7 / 4 / 5))
    assert s["ci95_method"] == "student t"
    assert s["mean_reward_finished"] == pytest.approx(1.75 / 4) and s["success_rate"] == pytest.approx(2 / 5)
    assert s["invalid_action_rate"] == pytest.approx(1 / 6) and s["mean_turns"] == 1.5
    assert s["components"] == {"c": 0.5, "d": 2.0}
    assert s["tokens"] == 22 and s["tokens_per_s"] == 11.0 and s["episodes_per_s"] == 2.5 and s["elapsed_s"] == 2.0
    # an episode that crashed without a termination reason counts as "error"
    assert s["terminations"] == {"submitted": 2, "max_turns": 1, "error": 1, "": 1}


def test_a_summary_of_nothing():
    s = summarize([])
    assert s["episodes"] == 0 and math.isnan(s["mean_reward"]) and math.isnan(s["success_rate"])
    assert s["invalid_action_rate"] == 0.0 and math.isnan(s["mean_turns"]) and "elapsed_s" not in s


# ---- intervals over time: the moving-block bootstrap -------------------------------------------
@pytest.mark.parametrize("n, ones", [(30, 23), (25, 5)])
def test_bootstrap_with_blocks_of_one_is_the_binomial_interval(n, ones):
    """Resampling 0/1 rewards one at a time draws Binomial(n, ones/n) successes: the interval is
    scipy's binomial quantiles (chosen so that the 2.5%/97.5% quantiles differ from the 3.5%/98.5% ones)."""
    from scipy.stats import binom

    counts = binom(n, ones / n)
    expected = (counts.ppf(0.975) - counts.ppf(0.025)) / (2 * n)
    values = [1.0] * ones + [0.0] * (n - ones)
    assert block_bootstrap_ci(values, 1, n_boot=100_000) == pytest.approx(expected)
    assert block_bootstrap_ci(values[::-1], 1, n_boot=100_000, seed=7) == pytest.approx(expected)


def test_bootstrap_blocks_keep_neighbours_together_and_wrap_around():
    # two values, blocks of one: means 0, 1/2, 1 with chances 1/4, 1/2, 1/4 -> interval [0, 1]
    assert block_bootstrap_ci([0.0, 1.0], 1) == pytest.approx(0.5)
    assert block_bootstrap_ci([0.0, 1.0], 0) == pytest.approx(0.5)  # a block is at least one episode
    # one block covers both values (in either circular order): every resample has mean 1/2
    assert block_bootstrap_ci([0.0, 1.0], 2) == 0.0
    assert block_bootstrap_ci([0.0, 1.0], 2.9) == 0.0 and block_bootstrap_ci([0.0, 1.0], 50) == 0.0
    # [0, 0, 1] with blocks of two: two circular blocks cut to three values give sums 0, 1, 2 with
    # chances 2/9, 5/9, 2/9 -> interval [0, 2/3]
    assert block_bootstrap_ci([0.0, 0.0, 1.0], 2) == pytest.approx(1 / 3)
    # a pattern repeating with the block length: every block holds one 1, no variance is left
    assert block_bootstrap_ci([1.0, 0.0, 0.0] * 10, 3) == 0.0
    assert block_bootstrap_ci([1.0, 0.0, 0.0] * 10, 1) > 0.1
    # the order matters once blocks are longer than one: 0,1,0,1 vs 0,0,1,1 (block sums 0..2)
    assert block_bootstrap_ci([0.0, 1.0, 0.0, 1.0], 2) == 0.0
    assert block_bootstrap_ci([0.0, 0.0, 1.0, 1.0], 2) == pytest.approx(0.5)


def _bootstrap_by_hand(values, block, n_boot, seed):
    """The resampling written out: each draw strings together blocks of ``block`` neighbours
    starting at uniformly drawn positions (wrapping past the end), cut to the original length."""
    n = len(values)
    starts = np.random.default_rng(seed).integers(0, n, size=(n_boot, math.ceil(n / block)))
    means = []
    for row in starts:
        sample = [values[(start + j) % n] for start in row for j in range(block)][:n]
        means.append(sum(sample) / n)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (hi - lo) / 2


def test_bootstrap_draws_are_the_described_blocks_and_seeded():
    values = [float(v) for v in np.random.default_rng(3).normal(size=23)]
    assert block_bootstrap_ci(values, 4) == pytest.approx(_bootstrap_by_hand(values, 4, 4000, 0))
    assert block_bootstrap_ci(values, 5, n_boot=300, seed=9) == pytest.approx(_bootstrap_by_hand(values, 5, 300, 9))
    assert block_bootstrap_ci(values, 4, seed=1) != block_bootstrap_ci(values, 4, seed=2)
    assert math.isnan(block_bootstrap_ci([], 1)) and math.isnan(block_bootstrap_ci([3.0], 1))


def test_overlap_block_by_hand():
    # windows of 10 days starting every 5: 2, 2, 2 and 1 windows start while each runs -> mean 1.75
    assert overlap_block([(0, 10), (5, 15), (10, 20), (15, 25)]) == 2
    assert overlap_block([(15, 25), (0, 10), (10, 20), (5, 15)]) == 2  # any input order
    # four windows starting together: 4, 3, 2, 1 -> 2.5, rounded up
    assert overlap_block([(0, 10)] * 4) == 3
    # mean length 4 (2 and 6): starts 0, 3, 4, 9 -> 3, 2, 1, 1 -> 1.75
    assert overlap_block([(0, 2), (3, 9), (4, 6), (9, 15)]) == 2
    assert overlap_block([(0, 10), (10, 20), (20, 30)]) == 1  # back to back: no overlap
    assert overlap_block([(0, 0), (5, 5)]) == 1  # never below one


def _spanned(task, reward, span):
    return Trajectory("a", 0, task, "test", 0, 0, "x", reward=reward,
                      breakdown={"total": reward, "components": {}, "details": {"time_span": list(span)}})


def test_episodes_with_time_windows_get_the_block_bootstrap_in_time_order():
    # windows a..d start at 0, 5, 10, 15 (mean length 9.25): 2, 2, 2, 1 start while each runs -> block 2
    a, b, c, d = (0, 12), (5, 10), (10, 20), (15, 25)
    trajs = {"a": _spanned("t0", 0.0, a), "b": _spanned("t2", 1.0, b), "c": _spanned("t1", 0.0, c),
             "d": _spanned("t3", 1.0, d)}
    s = summarize([trajs[k] for k in "dbac"])
    # by start the rewards are 0,1,0,1: every circular block of two averages 1/2, so no width. Any
    # other order (given, by end: 1,0,0,1, by task: 0,0,1,1) has blocks of 0,0 and 1,1: +-1/2
    assert s["ci95"] == 0.0 and s["ci95_method"] == "moving-block bootstrap over time (block of 2 episodes)"
    assert s["mean_reward"] == 0.5


def test_windows_that_start_together_are_ordered_by_episode_key():
    # two pairs of windows starting together (length 1): 2, 1, 2, 1 start while each runs -> block 2
    trajs = [_spanned("t0", 0.0, (0, 1)), _spanned("t1", 1.0, (0, 1)), _spanned("t2", 0.0, (100, 101)),
             _spanned("t3", 1.0, (100, 101))]
    s = summarize([trajs[0], trajs[1], trajs[3], trajs[2]])
    # by start then key: 0,1,0,1 -> no width (the given order, 0,1,1,0, would give +-1/2)
    assert s["ci95"] == 0.0 and s["ci95_method"] == "moving-block bootstrap over time (block of 2 episodes)"


def test_the_t_interval_is_used_unless_every_episode_has_a_window():
    two = [_spanned("t1", 0.0, (0, 1)), _spanned("t2", 1.0, (10, 11))]
    s = summarize(two)
    assert s["ci95"] == pytest.approx(0.5) and s["ci95_method"].startswith("moving-block")
    one_missing = [*two, Trajectory("a", 0, "t3", "test", 0, 0, "x", reward=1.0)]
    s = summarize(one_missing)
    assert s["ci95_method"] == "student t" and s["ci95"] == pytest.approx(4.303 * math.sqrt(1 / 3 / 3))
    no_details = [*two, Trajectory("a", 0, "t3", "test", 0, 0, "x", reward=1.0, breakdown={"total": 1.0})]
    assert summarize(no_details)["ci95_method"] == "student t"
    s = summarize([_spanned("t1", 0.7, (0, 1))])
    assert s["ci95_method"] == "student t" and math.isnan(s["ci95"])
