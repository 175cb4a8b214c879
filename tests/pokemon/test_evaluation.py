"""Cross-evaluation: ratings from a payoff matrix, and seeded runs that reproduce exactly."""

from __future__ import annotations

import numpy as np

from arenas.pokemon.evaluation import bradley_terry_elo, cross_evaluate
from tests.pokemon.conftest import requires_showdown


def test_ratings_order_and_scale():
    wins = np.array([[0, 8, 10], [2, 0, 7], [0, 3, 0]], dtype=float)
    elo = bradley_terry_elo(wins)
    assert elo[0] > elo[1] > elo[2]
    assert abs(np.mean(elo) - 1000) < 1e-6
    even = bradley_terry_elo(np.array([[0, 5], [5, 0]], dtype=float))
    assert np.allclose(even, 1000)


@requires_showdown
def test_cross_eval_is_seeded_and_reproducible(showdown):
    kwargs = dict(battles_per_pair=3, split="train", seed=4, max_battle_turns=20)
    first = cross_evaluate(["random", "heuristic"], **kwargs)
    again = cross_evaluate(["random", "heuristic"], **kwargs)
    assert first.to_dict() == again.to_dict()
    assert first.games == [[0, 6], [6, 0]]
    assert abs(first.score[0][1] + first.score[1][0] - 1.0) < 1e-9
    assert first.elo["heuristic"] >= first.elo["random"]
