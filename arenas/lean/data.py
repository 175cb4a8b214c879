"""miniF2F in Lean 4 (vendored in ``data/minif2f.json``) as the tasks of each mode.

Splits: ``test`` is miniF2F's test split (244 problems); miniF2F's valid split (244) is divided
by a hash of the problem name into ``train`` (about three quarters) and ``dev``, so no problem is
in two splits and the assignment never depends on the order of the file.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from arenas.lean.mutations import assign
from arenas.types import Task

DATA = Path(__file__).with_name("data") / "minif2f.json"
MODES = ("critic", "formalize", "prove")


@cache
def load() -> dict[str, Any]:
    with open(DATA, encoding="utf-8") as f:
        return json.load(f)


def header() -> str:
    return load()["header"]


def _split_of(problem: dict[str, Any]) -> str:
    if problem["split"] == "test":
        return "test"
    return "dev" if int(hashlib.sha256(problem["name"].encode()).hexdigest(), 16) % 4 == 0 else "train"


@cache
def problems(split: str) -> tuple[dict[str, Any], ...]:
    return tuple(sorted((p for p in load()["problems"] if _split_of(p) == split), key=lambda p: p["name"]))


def _meta(p: dict[str, Any]) -> dict[str, Any]:
    return {"problem": p["name"], "source": "miniF2F", "minif2f_split": p["split"]}


@cache
def critic_pairs(split: str) -> tuple[tuple[Task, Task], ...]:
    """(faithful, mutated) task pairs, one per problem with an applicable mutation."""
    probs = problems(split)
    mutated = assign([(p["name"], p["formal"]) for p in probs])
    pairs = []
    for p in probs:
        if p["name"] not in mutated:
            continue
        kind, statement = mutated[p["name"]]
        tasks = []
        for label, stmt, mutation in ((True, p["formal"], None), (False, statement, kind)):
            # the id must not give the label away: a digest of the statement, not the mutation kind
            tid = f"critic/{p['name']}/{hashlib.sha256(stmt.encode()).hexdigest()[:10]}"
            tasks.append(Task(tid, split, {"mode": "critic", "problem": p["informal"], "statement": stmt},
                              {"faithful": label, "mutation": mutation, "reference_statement": p["formal"]},
                              _meta(p)))
        pairs.append((tasks[0], tasks[1]))
    return tuple(pairs)


@cache
def tasks(mode: str, split: str) -> tuple[Task, ...]:
    if mode == "critic":
        return tuple(t for pair in critic_pairs(split) for t in pair)
    out = []
    for p in problems(split):
        prompt = {"mode": mode, "name": p["name"], "header": header()}
        if mode == "formalize":
            prompt["problem"] = p["informal"]
        else:
            prompt["statement"] = p["formal"]
        out.append(Task(f"{mode}/{p['name']}", split, prompt, {"statement": p["formal"], "name": p["name"]},
                        _meta(p)))
    return tuple(out)
