import math

import numpy as np

from arenas.leaderboards.db import AgentRow, Entry, EpisodeRow
from arenas.leaderboards.ranking import cluster_bootstrap, paired_difference, rank


def test_cluster_bootstrap_does_not_count_rollouts_of_a_task_as_independent():
    # 4 tasks, 50 identical rollouts each: the information is 4 tasks, not 200 episodes
    values = {(f"t{t}", 0, r): float(t % 2) for t in range(4) for r in range(50)}
    mean, lo, hi = cluster_bootstrap(values)
    n = len(values)
    naive = 1.96 * np.std(list(values.values()), ddof=1) / math.sqrt(n)
    assert mean == 0.5 and hi - lo > 4 * (2 * naive)


def test_paired_difference_is_paired_on_shared_episodes():
    rng = np.random.default_rng(0)
    difficulty = {f"t{i}": rng.uniform() for i in range(40)}
    a = {(t, 0, 0): d for t, d in difficulty.items()}
    b = {(t, 0, 0): d - 0.02 for t, d in difficulty.items()}  # always a little worse: paired, clearly so
    test = paired_difference(a, b)
    assert test["pairs"] == 40 and test["p"] < 0.01 and test["lo"] > 0
    assert paired_difference(a, dict(a))["p"] == 1.0
    assert paired_difference(a, {("other", 0, 0): 1.0})["pairs"] == 0


def _entry(agent, rewards, errors=()):
    eps = [EpisodeRow(task_id=f"t{i}", seed=i, rollout=0, reward=r, success=r > 0.5, error="x" if i in errors else None,
                      invalid_actions=0, turns=1, seconds=0.0, components={"c": r}, tokens=0)
           for i, r in enumerate(rewards)]
    return Entry(agent=AgentRow(spec=agent), episodes=eps, arena="a", split="test", config={}, verified=True)


def test_rank_counts_errors_as_zero_and_marks_ties():
    good = _entry("good", [1.0] * 20, errors={0, 1, 2, 3})  # errors pull it to 0.8
    fair = _entry("fair", [0.5] * 20)
    twin = _entry("twin", [0.5] * 20)
    rows = rank([twin, fair, good])
    assert [r.entry.agent_spec for r in rows] == ["good", "fair", "twin"]
    assert rows[0].value == 0.8 and rows[0].errors == 4 and rows[0].components == {"c": 1.0}
    assert rows[0].distinguishable_from_next is True
    assert rows[1].distinguishable_from_next is False and rows[2].versus_next is None
