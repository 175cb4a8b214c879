"""Overhead of a remote step: the memory arena's heuristic played through RemoteArena against
``arenas serve-env`` on loopback versus the same episodes on a local arena (one episode at a
time, so the ratio is per-step latency, not throughput). Each remote step is two round trips:
the server's policy picks the action, then the step plays it.

    python benchmarks/server_remote_overhead.py --n 10
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request

from arenas.agent_spec import make_agent_factory
from arenas.engines.services import Service
from arenas.registry import make
from arenas.rollout import RunConfig, iter_rollouts


def healthy(service: Service) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{service.port}/health", timeout=1).status == 200
    except OSError:
        return False


def timed(config: RunConfig, **kw) -> tuple[float, int, list[float]]:
    start = time.perf_counter()
    trajs = sorted(iter_rollouts(config, make_agent_factory(config.agent), **kw), key=lambda t: t.key)
    return time.perf_counter() - start, sum(len(t.turns) for t in trajs), [t.reward for t in trajs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    config = RunConfig(arena="memory", agent="heuristic", n=args.n)
    local_s, steps, local_rewards = timed(config)
    service = Service("env-server", lambda port: [sys.executable, "-m", "arenas.cli", "serve-env", "memory", "--port",
                                                  str(port)], health=healthy).start()
    try:
        url = f"http://127.0.0.1:{service.port}"
        remote_s, remote_steps, remote_rewards = timed(config, make_arena=lambda: make("memory", remote=url))
    finally:
        service.stop()
    assert remote_steps == steps and remote_rewards == local_rewards, "remote episodes differ from local ones"
    print(f"{args.n} episodes, {steps} steps, identical rewards")
    print(f"local  {1e3 * local_s / steps:.3f} ms/step")
    print(f"remote {1e3 * remote_s / steps:.3f} ms/step  (ratio remote/local {remote_s / local_s:.1f}x, "
          f"overhead {1e3 * (remote_s - local_s) / steps:.3f} ms/step)")


if __name__ == "__main__":
    main()
