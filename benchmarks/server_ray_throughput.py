"""Throughput of the memory arena's heuristic, local threads versus a local Ray cluster on the
same machine (same episodes, checked identical). Ray's start-up is timed apart from the run.

    python benchmarks/server_ray_throughput.py --n 100 --cpus 2
"""

from __future__ import annotations

import argparse
import tempfile
import time

import ray

from arenas.agent_spec import make_agent_factory
from arenas.distributed import ray_iterator
from arenas.rollout import RunConfig, run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    config = RunConfig(arena="memory", agent="heuristic", n=args.n, concurrency=args.cpus)
    factory = make_agent_factory("heuristic")
    with tempfile.TemporaryDirectory() as tmp:
        local = run(config, factory, out=f"{tmp}/local", progress=False)
        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - t0
        try:
            distributed = run(config, factory, out=f"{tmp}/ray", progress=False, iterate=ray_iterator())
        finally:
            ray.shutdown()
    assert distributed["mean_reward"] == local["mean_reward"] and distributed["errors"] == local["errors"] == 0
    print(f"{args.n} episodes on {args.cpus} CPUs, same mean reward {local['mean_reward']:.4f}")
    print(f"local threads {local['episodes_per_s']:.2f} episodes/s")
    print(f"ray           {distributed['episodes_per_s']:.2f} episodes/s (ratio ray/local "
          f"{distributed['episodes_per_s'] / local['episodes_per_s']:.2f}; cluster start-up {startup:.1f} s, not counted)")


if __name__ == "__main__":
    main()
