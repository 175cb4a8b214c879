"""The priority-rule portfolio and ``best_rule``: legal plans, chosen by simulation alone, never
worse than the heuristic, better on some tasks; the search starts from every rule."""

import numpy as np
import pytest

from arenas.memory import baselines, workloads
from arenas.memory.cost import PROFILES
from arenas.memory.game import Game
from arenas.memory.tasks import CAPACITY_FRACTIONS, capacity_bytes
from arenas.verifiers import memory as verifier


def _game(name, profile="tpu", tier="medium"):
    return Game(workloads.load(name), PROFILES[profile], capacity_bytes(name, profile, CAPACITY_FRACTIONS[tier]))


def _replayed_time(game, plan):
    wl = game.workload
    problem = {"size": wl.raw["buffers"]["size"], "start": wl.raw["buffers"]["start"],
               "end": wl.raw["buffers"]["end"], "def_op": wl.raw["buffers"]["def_op"],
               "uses": wl.raw["buffers"]["uses"], "op_flops": wl.raw["ops"]["flops"],
               "capacity": game.capacity, "alignment": game.alignment, "profile": game.profile.to_dict()}
    out = verifier.replay(problem, baselines.requests_of(plan))
    assert out["invalid"] == 0
    return out["time"]


def test_the_heuristic_is_the_first_rule():
    game = _game("gpt_tiny")
    np.testing.assert_array_equal(baselines.heuristic_order(game),
                                  baselines.rule_order(game, baselines.HEURISTIC_RULE))
    assert next(iter(baselines.RULES)) == baselines.HEURISTIC_RULE


@pytest.mark.parametrize("name", ["unet", "gpt_small", "mixer", "vit_tiny"])
def test_every_rule_plan_is_legal_and_best_rule_is_the_fastest_simulation(name):
    game = _game(name, tier="tight" if name == "mixer" else "medium")
    plans = baselines.rule_plans(game)
    times = {rule: _replayed_time(game, plan) for rule, plan in plans.items()}
    chosen, plan = baselines.best_rule(game)
    assert plan.cost.total == plans[chosen].cost.total and game.n_fast == 0  # planning leaves the game alone
    assert times[chosen] <= min(times.values()) * (1 + 1e-9)
    assert times[chosen] <= times[baselines.HEURISTIC_RULE] * (1 + 1e-12)


def test_best_rule_beats_the_heuristic_somewhere():
    better = 0
    for name in ("unet", "gpt_small", "bert_small", "resnet18"):
        game = _game(name)
        chosen, plan = baselines.best_rule(game)
        better += plan.cost.total < baselines.heuristic(game).cost.total * (1 - 1e-6)
    assert better >= 2


def test_search_is_never_worse_than_best_rule():
    game = _game("unet", tier="tight")
    found = baselines.search(game, np.random.default_rng(0), baselines.SearchConfig(generations=1, width=2))
    assert found.cost.total <= baselines.best_rule(game)[1].cost.total * (1 + 1e-12)
