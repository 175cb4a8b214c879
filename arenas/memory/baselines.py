"""Planners for mallocGame: the XLA-like greedy heuristic, random legal play, and a search.

A plan is a finished :class:`~arenas.memory.game.Game` whose ``offset`` array says where every
still-undecided buffer goes; policies replay it in arrival order. Planners place buffers in
their own order with :meth:`Game.put`, which is legal because each placement is checked against
everything placed before it, whatever the order.

* **heuristic** (after XLA's memory-space assignment): priority = benefit / sqrt(size), where the
  benefit is the time saved by moving the buffer alone to fast memory; buffers in descending
  priority each take the best-fitting free range (smallest gap, lowest address) or stay slow.
* **rules**: one-line priority rules of the same greedy (:data:`RULES`), e.g. benefit per unit of
  time x address area; the heuristic is the rule ``benefit/sqrt(size)``.
* **best_rule**: every rule's greedy plan is simulated with the cost model from the current state
  (what an agent could compute itself, since the cost model is documented) and the fastest plan
  is kept; the reward's answer is never looked at. Ties keep the heuristic, so it is never worse.
* **search**: beam search over priority vectors. Every candidate is scored by playing the game
  to the end with the greedy placement above in that candidate's order (a rollout); each
  generation mutates every beam member (log-normal noise on its priorities) and keeps the
  ``width`` best of parents and children. The rules' orders seed the beam, so the search never
  ends worse than the heuristic or ``best_rule``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from arenas.memory.game import Game


@dataclass(frozen=True)
class SearchConfig:
    """Budget of the search planner (rollouts = one per rule + generations x width x children)."""

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


@dataclass(frozen=True)
class Candidates:
    """What a priority rule may read about each undecided buffer with a positive benefit."""

    buffer: np.ndarray
    benefit: np.ndarray
    """Seconds saved if the buffer alone moved to fast memory now."""
    size: np.ndarray
    """Bytes."""
    length: np.ndarray
    """Live interval, in ops."""
    uses: np.ndarray
    """Ops that read or define it."""
    duration: np.ndarray
    """Seconds its live interval takes at the current op times."""


RULES: dict[str, Callable[[Candidates], np.ndarray]] = {
    "benefit/sqrt(size)": lambda c: c.benefit / np.sqrt(c.size),
    "benefit/size": lambda c: c.benefit / c.size,
    "benefit/(size*length)": lambda c: c.benefit / (c.size * c.length),
    "benefit/sqrt(size*length)": lambda c: c.benefit / np.sqrt(c.size * c.length),
    "benefit/length": lambda c: c.benefit / c.length,
    "benefit/sqrt(size*duration)": lambda c: c.benefit / np.sqrt(c.size * c.duration),
    "benefit": lambda c: c.benefit,
    "uses/size": lambda c: c.uses / c.size,
}
"""One-line priority rules (higher first); the first is the XLA-like heuristic's."""
HEURISTIC_RULE = "benefit/sqrt(size)"


def candidates(game: Game) -> Candidates:
    """Undecided buffers that would save time in fast memory, with their rule inputs."""
    cand = undecided(game)
    ben = benefits(game, cand)
    keep = ben > 0
    cand, wl = cand[keep], game.workload
    uses = np.array([len(game.cost.touch[int(b)]) for b in cand], dtype=np.float64)
    elapsed = np.concatenate(([0.0], np.cumsum(game.cost.op_time)))
    return Candidates(cand, ben[keep], wl.size[cand].astype(np.float64),
                      (wl.end[cand] - wl.start[cand]).astype(np.float64), uses,
                      elapsed[wl.end[cand]] - elapsed[wl.start[cand]])


def rule_order(game: Game, rule: str, cand: Candidates | None = None) -> np.ndarray:
    """Candidate buffers by descending priority of ``rule`` (stable, so ties keep arrival order)."""
    c = cand if cand is not None else candidates(game)
    return c.buffer[np.argsort(-RULES[rule](c), kind="stable")]


def heuristic_order(game: Game) -> np.ndarray:
    """Undecided buffers with a positive benefit, by descending benefit / sqrt(size)."""
    return rule_order(game, HEURISTIC_RULE)


def heuristic(game: Game) -> Game:
    """The XLA-like greedy plan from ``game``'s current state."""
    return greedy(game, heuristic_order(game))


def rule_plans(game: Game) -> dict[str, Game]:
    """Every rule's greedy plan from ``game``'s current state."""
    cand = candidates(game)
    return {name: greedy(game, rule_order(game, name, cand)) for name in RULES}


def best_rule(game: Game) -> tuple[str, Game]:
    """The rule whose simulated plan is fastest (the heuristic's rule on ties) and that plan."""
    plans = rule_plans(game)
    best = HEURISTIC_RULE
    for name, plan in plans.items():  # strictly better only: float noise must not displace the heuristic
        if plan.cost.total < plans[best].cost.total * (1 - 1e-12):
            best = name
    return best, plans[best]


def search(game: Game, rng: np.random.Generator, config: SearchConfig = SearchConfig()) -> Game:
    """The best plan found by beam search over priority orders (never worse than any rule)."""
    c = candidates(game)
    cand = c.buffer

    def rollout(priority: np.ndarray) -> tuple[float, Game, np.ndarray]:
        plan = greedy(game, cand[np.argsort(-priority, kind="stable")])
        return plan.cost.total, plan, priority

    seeds = [rollout(rule(c)) for rule in RULES.values()]
    beam = sorted(seeds, key=lambda item: item[0])[: config.width]  # stable: the heuristic wins ties
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
