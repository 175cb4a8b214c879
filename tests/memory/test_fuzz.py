"""Self-check: on 1,000 episodes of random legal and illegal play, the verifier's from-scratch
replay of the action log agrees with the arena's incremental bookkeeping."""

import numpy as np
import pytest

import arenas
from arenas.types import Action
from arenas.verifiers import memory as verifier

EPISODES = 1000


def _random_action(arena, rng):
    g = arena.game
    offered = arena.offered()
    kind = rng.random()
    if kind < 0.35 and len(offered):
        i = int(rng.integers(len(offered)))
        return Action(structured=i + 1) if rng.random() < 0.5 else f"fast@{offered[i]}"
    if kind < 0.55:
        return Action(structured=0) if rng.random() < 0.5 else "slow"
    if kind < 0.75:
        return f"fast@{int(rng.integers(0, g.capacity // g.alignment + 2)) * g.alignment}"
    if kind < 0.85:
        return f"fast@{int(rng.integers(1, 2 * g.capacity))}"
    return [Action(structured=int(rng.integers(-2, arena.slots + 3))), "fast@", "", "slow-ish? no: fast @ x",
            Action(structured="3")][int(rng.integers(5))]


def test_verifier_agrees_with_the_arena_on_random_play():
    arena = arenas.make("memory", workloads=["mlp_small", "unet_small", "gpt_tiny"])
    pool = arena.tasks("train")
    rng = np.random.default_rng(2024)
    illegal_total = 0
    for episode in range(EPISODES):
        task = pool[episode % len(pool)]
        arena.reset(task, seed=episode)
        total = 0.0
        while True:
            result = arena.step(_random_action(arena, rng))
            total += result.reward
            if result.done:
                break
        g, problem = arena.game, arena.setup.problem
        replay = verifier.replay(problem, result.info["requests"])
        assert replay["invalid"] == g.invalid == arena.invalid_actions, task.id
        assert replay["offsets"] == {b: int(g.offset[b]) for b in np.flatnonzero(g.offset >= 0)}, task.id
        assert replay["time"] == pytest.approx(g.cost.total, rel=1e-9), task.id
        breakdown = result.info["reward_breakdown"]
        assert total == pytest.approx(breakdown["total"], abs=1e-9), task.id
        assert breakdown["details"]["invalid_actions"]["invalid"] == g.invalid
        illegal_total += g.invalid
    assert illegal_total > EPISODES  # the fuzz really exercised illegal actions
