"""What verification costs: ingesting SQL-arena runs with every episode re-scored by the verifier,
against the same ingestion trusting the records (summaries recomputed, nothing re-scored). Each
is timed in a fresh process (the SQL verifier caches gold results per process, so a second pass
in one process would be flattered).

    python benchmarks/leaderboard_ingest.py [--runs runs/demo-oracle runs/demo-random] [-n 40]

Without ``--runs`` it plays ``n`` SQL test tasks with the oracle and random agents first.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arenas.agent_spec import make_agent_factory
from arenas.leaderboards import ingest
from arenas.leaderboards.db import ResultsDB
from arenas.rollout import RunConfig, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", type=Path)
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--mode", choices=("trust", "verify"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    runs = args.runs
    if not runs:
        root = Path(tempfile.mkdtemp(prefix="lb-bench-"))
        runs = [root / agent for agent in ("oracle", "random")]
        for agent, out in zip(("oracle", "random"), runs, strict=True):
            run(RunConfig(arena="sql", agent=agent, n=args.n, concurrency=2), make_agent_factory(agent), out=out,
                progress=False)
    if args.mode:
        print(measure(runs, args.mode))
        return
    episodes = sum(len(ingest.read_run(r)[1]) for r in runs)
    seconds = {}
    for mode in ("trust", "verify"):
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--runs", *map(str, runs)],
                             capture_output=True, text=True, check=True)
        seconds[mode] = float(out.stdout.split()[-1])
    base = seconds["trust"]
    print(f"{episodes} episodes of {', '.join(map(str, runs))}")
    print("| ingestion | seconds | episodes/s | vs trusting the records |")
    print("|---|---:|---:|---:|")
    for mode, name in (("trust", "trusting the records (no re-scoring)"), ("verify", "every episode re-scored")):
        print(f"| {name} | {seconds[mode]:.2f} | {episodes / seconds[mode]:.0f} | {seconds[mode] / base:.1f}x |")


def measure(runs: list[Path], mode: str) -> float:
    """Seconds to ingest ``runs`` in one of the modes (run in its own process)."""
    start = time.perf_counter()
    db = ResultsDB("sqlite://")
    for r in runs:
        record, trajs = ingest.read_run(r)
        if mode != "trust":
            ingest.verify(record["config"], trajs)
        db.add_entry(ingest.Entry(arena=record["config"]["arena"], split="test", config=record["config"],
                                  episodes=ingest.episode_rows(trajs)), record["config"]["agent"])
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
