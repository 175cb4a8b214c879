"""Calibration table of the migration arena: mean reward of each baseline per library, plus the
validation counts of the task build (what the README's tables are made from).

    python benchmarks/migration_baselines.py [--split test] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from arenas.agents import make_agent_factory
from arenas.migration.tasks import load_tasks, validation_report
from arenas.rollout import RunConfig, run

AGENTS = ["oracle", "policy:identity", "policy:heuristic", "random"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    report = validation_report()
    print("library      candidates kept changes dropped")
    for lib, row in report.items():
        print(f"{lib:12s} {row['candidates']:10d} {row['kept']:4d} {row['changes']:7d} {json.dumps(row['dropped'])}")
    tasks = {t.id: t for t in load_tasks(args.split)}
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    import shutil

    for agent in AGENTS:
        shutil.rmtree(f"/tmp/migration-baselines-{agent.replace(':', '_')}", ignore_errors=True)
        out = f"/tmp/migration-baselines-{agent.replace(':', '_')}"
        run(RunConfig(arena="migration", agent=agent, n=len(tasks), split=args.split,
                      concurrency=args.concurrency), make_agent_factory(agent), out=out, progress=False)
        with open(f"{out}/episodes.jsonl") as f:
            for line in f:
                ep = json.loads(line)
                lib = tasks[ep["task_id"]].prompt["library"]
                table[agent][lib].append(0.0 if ep.get("error") else float(ep["reward"]))
    libs = sorted({t.prompt["library"] for t in tasks.values()})
    print(f"\n{args.split} split ({len(tasks)} tasks): mean reward")
    print("agent              " + " ".join(f"{lib[:11]:>11s}" for lib in libs) + "         all")
    for agent in AGENTS:
        cells = [table[agent][lib] for lib in libs]
        flat = [x for c in cells for x in c]
        print(f"{agent:18s} " + " ".join(f"{sum(c) / len(c):11.2f}" for c in cells) + f" {sum(flat) / len(flat):11.2f}")


if __name__ == "__main__":
    main()
