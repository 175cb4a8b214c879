"""``arenas demo``: every arena's baselines in one short run, then one table.

Each arena's manifest says what its demo runs (``[demo]``: ``agents``, ``n``, ``split``,
``config``), so a new arena joins the demo by its folder alone. An arena whose demo fails (a
missing extra, a service that will not start) is reported in the table and the demo goes on.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from arenas.agent_spec import make_agent_factory
from arenas.registry import ArenaSpec, list_arenas
from arenas.rollout import RunConfig, run


def demo_runs(spec: ArenaSpec) -> list[RunConfig]:
    d = spec.demo
    return [RunConfig(arena=spec.id, agent=agent, n=int(d.get("n", 20)), split=d.get("split", "test"),
                      seed=int(d.get("seed", 0)), concurrency=int(d.get("concurrency", 2)),
                      arena_config=dict(d.get("config", {})))
            for agent in d.get("agents", ())]


def run_demo(out: Path, arenas: list[str] | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Runs the demos into ``out/<arena>-<agent>/``; returns one row per run (or failure)."""
    rows = []
    for spec in list_arenas():
        if not spec.demo or (arenas and spec.id not in arenas):
            continue
        for config in demo_runs(spec):
            folder = out / f"{spec.id}-{config.agent.replace(':', '_')}"
            shutil.rmtree(folder, ignore_errors=True)
            start = time.perf_counter()
            try:
                s = run(config, make_agent_factory(config.agent), out=folder, progress=progress)
                rows.append({"arena": spec.id, "agent": config.agent, "episodes": s["episodes"],
                             "mean_reward": s["mean_reward"], "ci95": s["ci95"], "success_rate": s["success_rate"],
                             "errors": s["errors"], "seconds": time.perf_counter() - start})
            except Exception as e:  # one arena's failure must not hide the others
                rows.append({"arena": spec.id, "agent": config.agent, "failed": f"{type(e).__name__}: {e}"[:200],
                             "seconds": time.perf_counter() - start})
    return rows


def format_rows(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        if "failed" in r:
            out.append((r["arena"], r["agent"], "-", "failed: " + r["failed"], "-", "-", f"{r['seconds']:.0f}"))
            continue
        ci = "" if math.isnan(r["ci95"]) else f" ± {r['ci95']:.3f}"
        out.append((r["arena"], r["agent"], str(r["episodes"]), f"{r['mean_reward']:.3f}{ci}",
                    f"{r['success_rate']:.0%}", str(r["errors"]), f"{r['seconds']:.0f}"))
    return out
