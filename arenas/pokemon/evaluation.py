"""Cross-evaluation of a pool of players: every ordered pair plays seeded battles; the result is
a payoff matrix and ratings on the Elo scale.

Ratings are the Bradley-Terry maximum-likelihood fit of all games (ties count half), reported as
``1000 + 400 log10(strength)`` with the pool's mean at 1000: unlike sequential Elo updates they do
not depend on the order the games were played in, so the same seed gives the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arenas.pokemon.battle import PokemonBattleArena
from arenas.pokemon.players import MOVE_POLICIES
from arenas.types import Observation


@dataclass
class CrossEval:
    players: list[str]
    score: list[list[float]]
    """score[i][j]: mean points of player i against j (win 1, tie 0.5, loss 0), both seats pooled."""
    games: list[list[int]]
    elo: dict[str, float]
    invalid_action_rate: dict[str, float]
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"players": self.players, "score": self.score, "games": self.games, "elo": self.elo,
                "invalid_action_rate": self.invalid_action_rate, "records": self.records}


def bradley_terry_elo(wins: np.ndarray, iterations: int = 2000) -> np.ndarray:
    """Elo-scale ratings from a matrix of (fractional) wins[i, j] of i over j."""
    n = len(wins)
    w = wins + 0.5 * (1 - np.eye(n))  # one virtual draw per pair keeps unbeaten players finite
    g = w + w.T
    p = np.ones(n)
    for _ in range(iterations):
        denom = np.array([sum(g[i, j] / (p[i] + p[j]) for j in range(n) if j != i) for i in range(n)])
        new = w.sum(axis=1) / np.maximum(denom, 1e-12)
        new /= math.exp(np.mean(np.log(new)))
        if np.max(np.abs(new - p)) < 1e-10:
            p = new
            break
        p = new
    return 1000.0 + 400.0 * np.log10(p)


def _seat_policy(arena: PokemonBattleArena, spec: str | Callable[[], Any], seat: str,
                 task_id: str) -> Callable[[Observation], Any]:
    if isinstance(spec, str) and spec in MOVE_POLICIES:
        return arena.policy(spec, seat)
    from arenas.agent import EpisodeContext
    from arenas.agent_spec import make_agent_factory

    agent = (make_agent_factory(spec) if isinstance(spec, str) else spec)()
    agent.reset(EpisodeContext(arena_id="pokemon", task_id=task_id, split=arena.split, seed=arena.seed,
                               policy=lambda name: arena.policy(name, seat)))
    return agent.act


def cross_evaluate(players: Sequence[str], battles_per_pair: int = 10, split: str = "test", seed: int = 0,
                   progress: Callable[[int, int], None] | None = None, **config: Any) -> CrossEval:
    """Every ordered pair (i as p1, j as p2), ``battles_per_pair`` seeded battles each."""
    names = list(players)
    n = len(names)
    points = np.zeros((n, n))
    games = np.zeros((n, n), dtype=int)
    invalid = np.zeros(n)
    decisions = np.zeros(n)
    records = []
    arena = PokemonBattleArena(split=split, **config)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    try:
        for k, (i, j) in enumerate(pairs):
            tasks = list(arena.tasks(split))
            order = np.random.default_rng([seed, i, j]).permutation(len(tasks))
            for b in range(battles_per_pair):
                task = tasks[order[b % len(tasks)]]
                arena.render_seats = {s for s, who in (("p1", i), ("p2", j)) if names[who] not in MOVE_POLICIES}
                obs = arena.reset(task, seed=seed * 1_000_003 + k * 1009 + b)
                seats = {"p1": _seat_policy(arena, names[i], "p1", task.id),
                         "p2": _seat_policy(arena, names[j], "p2", task.id)}
                while True:
                    results = arena.step({s: seats[s](o) for s, o in obs.items()})
                    if any(r.done for r in results.values()):
                        break
                    obs = {s: results[s].observation for s in arena.pending}
                p1 = results["p1"]
                pts = {1.0: 1.0, -1.0: 0.0}.get(p1.reward, 0.5)
                points[i, j] += pts
                points[j, i] += 1 - pts
                games[i, j] += 1
                games[j, i] += 1
                for seat, who in (("p1", i), ("p2", j)):
                    invalid[who] += results[seat].info["invalid_action_rate"]
                    decisions[who] += 1
                records.append({"p1": names[i], "p2": names[j], "task": task.id, "p1_points": pts,
                                "result": p1.info.get("result"), "battle_turn": p1.info.get("battle_turn")})
            if progress is not None:
                progress(k + 1, len(pairs))
    finally:
        arena.close()
    score = np.divide(points, np.maximum(games, 1))
    elo = bradley_terry_elo(points)
    return CrossEval(players=names, score=score.round(4).tolist(), games=games.tolist(),
                     elo={p: round(float(e), 1) for p, e in zip(names, elo, strict=True)},
                     invalid_action_rate={p: float(invalid[k] / max(decisions[k], 1)) for k, p in enumerate(names)},
                     records=records)
