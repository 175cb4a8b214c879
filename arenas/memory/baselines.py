"""Planners for mallocGame: the XLA-like greedy heuristic, random legal play, and a search.

A plan is a finished :class:`~arenas.memory.game.Game` whose ``offset`` array says where every
still-undecided buffer goes; policies replay it in arrival order. Planners place buffers in
their own order with :meth:`Game.put`, which is legal because each placement is checked against
everything placed before it, whatever the order.

* **heuristic** (after XLA's memory-space assignment): priority = benefit / sqrt(size), where the
  benefit is the time saved by moving the buffer alone to fast memory; buffers in descending
  priority each take the best-fitting free range (smallest gap, lowest address) or stay slow.
* **search**: beam search over priority vectors. Every candidate is scored by playing the game
  to the end with the greedy placement above in that candidate's order (a rollout); each
  generation mutates every beam member (log-normal noise on its priorities) and keeps the
  ``width`` best of parents and children. The heuristic's own order seeds the beam, so the
  search never ends worse than the heuristic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arenas.memory.game import Game


@dataclass(frozen=True)
class SearchConfig:
    """Budget of the search planner (rollouts = 1 + generations x width x children)."""

    width: int = 4
    """Priority vectors kept after each generation."""
    children: int = 4
    """Mutations of each beam member per generation."""
    generations: int = 8
    sigma: float = 0.3
    """Standard deviation of the log-normal priority noise."""


def undecided(game: Game) -> np.ndarray:
    """Buffers that have not arrived yet (the current one included)."""
    return game.order[game.k:]


def benefits(game: Game, buffers: np.ndarray) -> np.ndarray:
    """Seconds each buffer would save alone in fast memory, given the game's current state."""
    return np.array([game.cost.benefit(int(b)) for b in buffers])


def greedy(game: Game, order: np.ndarray) -> Game:
    """Places ``order`` best-fit into a copy of ``game``; buffers that fit nowhere stay slow."""
    plan = game.copy()
    for b in order:
        b = int(b)
        gaps = plan.gaps(b)
        if len(gaps):
            plan.put(b, int(gaps.start[0]))
    return plan


def heuristic_order(game: Game) -> np.ndarray:
    """Undecided buffers with a positive benefit, by descending benefit / sqrt(size)."""
    cand = undecided(game)
    ben = benefits(game, cand)
    keep = ben > 0
    cand, ben = cand[keep], ben[keep]
    priority = ben / np.sqrt(game.workload.size[cand])
    return cand[np.argsort(-priority, kind="stable")]


def heuristic(game: Game) -> Game:
    """The XLA-like greedy plan from ``game``'s current state."""
    return greedy(game, heuristic_order(game))


def search(game: Game, rng: np.random.Generator, config: SearchConfig = SearchConfig()) -> Game:
    """The best plan found by beam search over priority orders (never worse than the heuristic)."""
    cand = undecided(game)
    ben = benefits(game, cand)
    keep = ben > 0
    cand, ben = cand[keep], ben[keep]
    base = ben / np.sqrt(game.workload.size[cand])

    def rollout(priority: np.ndarray) -> tuple[float, Game, np.ndarray]:
        plan = greedy(game, cand[np.argsort(-priority, kind="stable")])
        return plan.cost.total, plan, priority

    beam = [rollout(base)]
    for _ in range(config.generations):
        pool = list(beam)
        for _, _, priority in beam:
            for _ in range(config.children):
                pool.append(rollout(priority * np.exp(config.sigma * rng.standard_normal(len(priority)))))
        pool.sort(key=lambda item: item[0])
        beam = pool[: config.width]
    return beam[0][1]


def requests_of(plan: Game, start: int = 0) -> list[int]:
    """The plan as an action log (offset or SLOW per buffer) in arrival order from ``start``."""
    return [int(plan.offset[b]) for b in plan.order[start:]]
