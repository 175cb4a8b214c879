"""Oracle success measurement: which task types enter the arena (``data/oracle_rates.json``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from arenas.gui.tasks import RATES_FILE, SEED_BASE, category
from arenas.types import Task

MEASURE_SEED_BASE = 900_000
"""Seeds of the inclusion measurement, apart from every split's seeds."""


def probe_task(task_type: str, seed: int, split: str = "test") -> Task:
    return Task(id=f"{task_type}/{seed}", split=split, prompt={"task_type": task_type, "seed": seed},
                reference={"task_type": task_type, "seed": seed}, meta={"category": category(task_type)})


def play_oracle(arena: Any, task: Task) -> dict[str, Any]:
    """Plays the oracle on ``task`` in ``arena``; returns success, steps and how it ended."""
    arena.reset(task=task)
    policy = arena.policy("oracle")
    reward, steps = 0.0, 0
    while True:
        result = arena.step(policy(None))
        steps += 1
        reward += result.reward
        if result.done:
            break
    return {"success": reward > 0.5, "steps": steps, "termination": result.info.get("termination"),
            "reason": (result.info.get("reward_breakdown") or {}).get("details", {}).get("success", {})}


def measure(arena: Any, task_types: list[str], n: int, progress: bool = True) -> dict[str, dict[str, Any]]:
    rates: dict[str, dict[str, Any]] = {}
    for t in task_types:
        t0 = time.perf_counter()
        wins, failures = 0, []
        for i in range(n):
            seed = MEASURE_SEED_BASE + i
            try:
                out = play_oracle(arena, probe_task(t, seed))
            except Exception as e:  # a task whose page breaks is excluded, not fatal
                out = {"success": False, "termination": f"error: {e!r}"[:200]}
            wins += out["success"]
            if not out["success"] and len(failures) < 3:
                failures.append({"seed": seed, **{k: str(v)[:200] for k, v in out.items() if k != "success"}})
        rates[t] = {"rate": wins / n, "n": n, "failures": failures, "s_per_episode": (time.perf_counter() - t0) / n}
        if progress:
            print(f"{t:32s} {wins / n:6.2f}  {rates[t]['s_per_episode'] * 1000:6.1f} ms/ep", flush=True)
    return rates


def write_rates(rates: dict[str, dict[str, Any]], path: Path = RATES_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"measured_seeds": f"{MEASURE_SEED_BASE}..", "split_seed_bases": SEED_BASE,
            "rates": {t: {"rate": r["rate"], "n": r["n"]} for t, r in sorted(rates.items())}}
    path.write_text(json.dumps(body, indent=1) + "\n")
