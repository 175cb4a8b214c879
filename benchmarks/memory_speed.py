"""mallocGame speed: per-step legal offsets + cost update, and a full heuristic episode.

    python benchmarks/memory_speed.py [--workload gpt_xl]

Targets: <= 50 us median per step on a 1,000+ buffer workload; <= 1 s for a whole heuristic
episode through the arena (text and structured observations included) on the largest workload.
Baselines measured in the same process: the same step with a pure-Python legal-offset scan over
all placed buffers (and the same cost update), and an all-slow episode (the arena's fixed per-step overhead).
"""

from __future__ import annotations

import argparse
import statistics
import time

import arenas
from arenas.memory import workloads
from arenas.memory.cost import PROFILES
from arenas.memory.game import SLOW, Game
from arenas.memory.tasks import capacity_bytes


def naive_offsets(game: Game, b: int, placed: list[tuple[int, int, int, int]]) -> list[int]:
    """Left-aligned legal offsets by a Python loop over every placed block (the baseline)."""
    s, e, need = game.workload.start[b], game.workload.end[b], game.footprint[b]
    blocks = sorted((a0, a1) for t0, t1, a0, a1 in placed if t0 < e and t1 > s)
    found, cursor = [], 0
    for a0, a1 in blocks:
        if a0 - cursor >= need:
            found.append(cursor)
        cursor = max(cursor, a1)
    if game.capacity - cursor >= need:
        found.append(cursor)
    return found


def step_times(name: str, fraction: float) -> tuple[list[float], list[float]]:
    wl = workloads.load(name)
    game = Game(wl, PROFILES["tpu"], int(fraction * wl.peak_live_bytes))
    twin = game.copy()  # the baseline's own state, updated with the same cost model
    fast, slow_baseline, placed = [], [], []
    while not game.done:
        b = game.current
        t0 = time.perf_counter()
        found = naive_offsets(game, b, placed)
        if found:
            twin.put(b, found[0])
        t1 = time.perf_counter()
        gaps = game.gaps(b)
        offset = int(gaps.start[0]) if len(gaps) else SLOW
        game.place(offset)
        t2 = time.perf_counter()
        slow_baseline.append(t1 - t0)
        fast.append(t2 - t1)
        if offset >= 0:
            placed.append((wl.start[b], wl.end[b], offset, offset + game.footprint[b]))
    return fast, slow_baseline


def episode_seconds(name: str, policy: str) -> float:
    arena = arenas.make("memory", workloads=[name], profiles=["tpu"], capacities=["tight"])
    task = arena.tasks("train")[0]
    arena.reset(task, seed=0)  # warms the per-task cache (heuristic baseline for the reward)
    t0 = time.perf_counter()
    obs = arena.reset(task, seed=0)
    act = arena.policy(policy) if policy != "slow" else (lambda obs: "slow")
    while not arena.step(act(obs)).done:
        pass
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default=max(workloads.names(), key=lambda n: workloads.load(n).n_buffers))
    args = parser.parse_args()
    wl = workloads.load(args.workload)
    print(f"workload {args.workload}: {wl.n_buffers} buffers, {wl.n_ops} ops")
    for fraction in (0.05, 0.25):
        fast, naive = step_times(args.workload, fraction)
        med, base = statistics.median(fast) * 1e6, statistics.median(naive) * 1e6
        print(f"capacity {fraction:.0%}: step (offsets + legality + cost update) median {med:.1f} us "
              f"(target <= 50, p90 {sorted(fast)[int(0.9 * len(fast))] * 1e6:.1f} us); same step with "
              f"a pure-Python offset scan {base:.1f} us -> ratio {base / med:.2f}x")
    heur, slow = episode_seconds(args.workload, "heuristic"), episode_seconds(args.workload, "slow")
    cap = capacity_bytes(args.workload, "tpu", 0.05)
    print(f"heuristic episode (capacity {cap:,} B): {heur:.3f} s (target <= 1 s, {1 / heur:.1f}x under); "
          f"all-slow episode {slow:.3f} s -> heuristic/all-slow {heur / slow:.2f}x")


if __name__ == "__main__":
    main()
