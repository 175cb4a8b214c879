"""Load test of the env server (loopback only, bounded): N concurrent WebSocket sessions of the
memory arena play episodes for D seconds (each step asks the server's heuristic for the action,
then plays it: two requests). Prints requests/s, p50/p99 latency, errors and the server's memory
before and after, against a baseline of the same loop run on a local arena in one thread.

    python benchmarks/server_load.py --sessions 64 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request

from arenas.engines.services import Service
from arenas.registry import make


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def healthy(service: Service) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{service.port}/health", timeout=1).status == 200
    except OSError:
        return False


async def session(url: str, deadline: float, latencies: list[float], errors: list[str]) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        async def ask(message: dict) -> dict:
            t0 = time.perf_counter()
            await ws.send(json.dumps(message))
            reply = json.loads(await ws.recv())
            latencies.append(time.perf_counter() - t0)
            if reply["type"] == "error":
                errors.append(reply["data"]["code"])
            return reply
        seed = 0
        while time.perf_counter() < deadline:
            await ask({"type": "reset", "data": {"seed": seed}})
            seed += 1
            done = False
            while not done and time.perf_counter() < deadline:
                action = (await ask({"type": "policy", "data": {"name": "heuristic"}}))["data"]
                done = (await ask({"type": "step", "data": action}))["data"].get("done", True)


def local_baseline(seconds: float) -> float:
    """Requests/s of the same loop on a local arena (policy call + step = two requests)."""
    n, deadline = 0, time.perf_counter() + seconds
    with make("memory") as arena:
        seed = 0
        while time.perf_counter() < deadline:
            obs, seed, done = arena.reset(seed=seed), seed + 1, False
            policy = arena.policy("heuristic")
            n += 1
            while not done and time.perf_counter() < deadline:
                result = arena.step(policy(obs))
                obs, done, n = result.observation, result.done, n + 2
    return n / seconds


async def load(url: str, sessions: int, seconds: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    results = await asyncio.gather(*(session(url, start + seconds, latencies, errors) for _ in range(sessions)),
                                   return_exceptions=True)
    errors += [repr(r) for r in results if isinstance(r, BaseException)]
    return latencies, errors, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    baseline = local_baseline(min(args.seconds, 10.0))
    service = Service("env-server", lambda port: [sys.executable, "-m", "arenas.cli", "serve-env", "memory", "--port",
                                                  str(port), "--max-sessions", str(args.sessions)], health=healthy).start()
    try:
        before = rss_mb(service.pid)
        latencies, errors, elapsed = asyncio.run(load(f"ws://127.0.0.1:{service.port}/ws", args.sessions, args.seconds))
        after = rss_mb(service.pid)
    finally:
        service.stop()
    latencies.sort()
    rps = len(latencies) / elapsed
    pct = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    print(f"sessions {args.sessions}  duration {elapsed:.1f} s  requests {len(latencies)}  errors {len(errors)}"
          f"{' ' + str(sorted(set(errors))[:3]) if errors else ''}")
    print(f"requests/s {rps:.0f}  (local arena, one thread: {baseline:.0f}/s; ratio served/local {rps / baseline:.2f})")
    print(f"latency p50 {pct(0.5):.2f} ms  p99 {pct(0.99):.2f} ms")
    print(f"server memory {before:.0f} MB before, {after:.0f} MB after")


if __name__ == "__main__":
    main()
