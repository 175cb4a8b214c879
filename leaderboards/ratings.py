"""Ratings for multi-agent arenas: Bradley–Terry strengths on the Elo scale from the payoff
matrix of games between agents and a fixed opponent pool, with bootstrap intervals.

An entry of such an arena is one agent against one opponent (``arena_config["opponent"]``);
each finished episode is a game: a success (the arena's verdict ``passed``) is a win, a zero
reward without success a draw (half a win each), anything else a loss. Errored episodes count as losses, as errors count as 0 elsewhere.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arenas.leaderboards.db import Entry

ELO_BASE = 1500.0
RESAMPLES = 300


@dataclass
class Rating:
    player: str
    elo: float
    lo: float
    hi: float
    games: int


def opponent_of(entry: Entry) -> str | None:
    opponent = (entry.config.get("arena_config") or {}).get("opponent")
    return opponent if isinstance(opponent, str) else None


def entry_label(entry: Entry) -> str:
    """The agent, and its opponent in a multi-agent arena."""
    opponent = opponent_of(entry)
    return f"{entry.agent_spec} vs {opponent}" if opponent else entry.agent_spec


def games(entries: list[Entry]) -> dict[tuple[str, str], list[float]]:
    """(player, opponent) -> the player's result of each game (1 win, 0.5 draw, 0 loss)."""
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in entries:
        opponent = opponent_of(e)
        if opponent is None:
            continue
        for ep in e.episodes:
            out[(e.agent_spec, opponent)].append(0.0 if ep.error else 1.0 if ep.success else 0.5 if ep.reward == 0 else 0.0)
    return dict(out)


def bradley_terry(wins: np.ndarray, iterations: int = 500, prior: float = 0.5) -> np.ndarray:
    """Strengths from ``wins[i, j]`` (i's wins over j) by minorize–maximize; ``prior`` adds that
    many virtual draws to every played pair, so an unbeaten player gets a finite rating."""
    n = len(wins)
    played = (wins + wins.T) > 0
    w = wins + prior * played
    total = w + w.T
    p = np.ones(n)
    for _ in range(iterations):
        denom = (total / (p[:, None] + p[None, :] + 1e-300)).sum(axis=1)
        p = np.where(denom > 0, w.sum(axis=1) / np.maximum(denom, 1e-300), p)
        p = p / math.exp(np.mean(np.log(np.maximum(p, 1e-300))))
    return p


def _matrix(results: dict[tuple[str, str], list[float]], players: list[str], rng=None) -> np.ndarray:
    index = {p: i for i, p in enumerate(players)}
    wins = np.zeros((len(players), len(players)))
    for (a, b), outcomes in results.items():
        x = np.asarray(outcomes)
        if rng is not None:
            x = x[rng.integers(0, len(x), len(x))]
        wins[index[a], index[b]] += x.sum()
        wins[index[b], index[a]] += len(x) - x.sum()
    return wins


def ratings(entries: list[Entry], resamples: int = RESAMPLES, seed: int = 0) -> list[Rating]:
    """Every player's Elo-scale rating (mean 1500) with a 95% interval from resampling each pair's
    games; best first. Empty when no entry names an opponent."""
    results = games(entries)
    if not results:
        return []
    players = sorted({p for pair in results for p in pair})
    elo = lambda s: ELO_BASE + 400 * np.log10(s)  # noqa: E731
    point = elo(bradley_terry(_matrix(results, players)))
    rng = np.random.default_rng(seed)
    boot = np.array([elo(bradley_terry(_matrix(results, players, rng), iterations=200)) for _ in range(resamples)])
    lo, hi = np.quantile(boot, [0.025, 0.975], axis=0)
    counts = defaultdict(int)
    for (a, b), outcomes in results.items():
        counts[a] += len(outcomes)
        counts[b] += len(outcomes)
    out = [Rating(p, float(point[i]), float(lo[i]), float(hi[i]), counts[p]) for i, p in enumerate(players)]
    return sorted(out, key=lambda r: -r.elo)
