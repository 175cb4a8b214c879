"""Rollout-engine overhead: oracle episodes through the engine (trajectories written to disk)
vs a bare reset/step loop over the same tasks, in the same process.

    python benchmarks/rollout_overhead.py [--arena sql] [-n 300]

Targets: >= 100 episodes/s with the oracle on SQLite; engine overhead <= 5% vs the bare loop.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import arenas
from arenas.agents import make_agent_factory
from arenas.rollout import RunConfig, plan_jobs, run


def bare_loop(arena_id: str, config: RunConfig) -> float:
    arena = arenas.make(arena_id)
    jobs = plan_jobs(arena, config)
    start = time.perf_counter()
    for job in jobs:
        obs = arena.reset(task=job.task, seed=job.seed)
        policy = arena.policy("oracle")
        while True:
            result = arena.step(policy(obs))
            obs = result.observation
            if result.done:
                break
    elapsed = time.perf_counter() - start
    arena.close()
    return len(jobs) / elapsed


def engine(config: RunConfig) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run(config, make_agent_factory("oracle"), out=out, progress=False)
        elapsed = time.perf_counter() - start
    assert summary["errors"] == 0, summary
    return summary["episodes"] / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arena", default="sql")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    cfg = RunConfig(arena=args.arena, agent="oracle", n=args.n, split=args.split)
    engine(RunConfig(arena=args.arena, agent="oracle", n=20, split=args.split))  # warm caches
    bare_loop(args.arena, RunConfig(arena=args.arena, agent="oracle", n=20, split=args.split))
    rows = []
    for _ in range(3):  # interleave to share noise
        rows.append((bare_loop(args.arena, cfg), engine(cfg)))
    bare = max(r[0] for r in rows)
    eng = max(r[1] for r in rows)
    eng2 = engine(RunConfig(arena=args.arena, agent="oracle", n=args.n, split=args.split, concurrency=2))
    print(f"bare reset/step loop : {bare:8.1f} episodes/s")
    print(f"engine, concurrency 1: {eng:8.1f} episodes/s  (ratio {eng / bare:.3f}, overhead {1 - eng / bare:+.1%})")
    print(f"engine, concurrency 2: {eng2:8.1f} episodes/s  (ratio {eng2 / bare:.3f})")


if __name__ == "__main__":
    main()
