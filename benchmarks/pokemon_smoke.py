"""Wall-clock of the 20-battle smoke run including server start (target < 30 s), and the
heuristic's win rate against random over 100 seeded battles (target >= 85%).

    python benchmarks/pokemon_smoke.py
"""

from __future__ import annotations

import time

from arenas.pokemon.arena import PokemonArena


def play(arena: PokemonArena, task, seed: int) -> float:
    obs = arena.reset(task, seed=seed)
    policy = arena.policy("heuristic")
    while True:
        r = arena.step(policy(obs))
        if r.done:
            return r.reward
        obs = r.observation


def main() -> None:
    start = time.perf_counter()
    arena = PokemonArena(opponent="random", split="train")  # starts its own server on first reset
    try:
        tasks = arena.sample_tasks("train", 100, seed=0)
        smoke = [play(arena, tasks[i], i) for i in range(20)]
        smoke_s = time.perf_counter() - start
        rest = [play(arena, tasks[i], i) for i in range(20, 100)]
    finally:
        arena.close()
    wins = sum(r > 0 for r in smoke + rest)
    print(f"20-battle smoke incl. server start: {smoke_s:.1f} s (target < 30 s)")
    print(f"heuristic vs random, 100 seeded battles: {wins}% wins (target >= 85%), "
          f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
