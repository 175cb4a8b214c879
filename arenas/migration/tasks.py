"""Migration tasks: generated from the change catalog, then proven valid against the real versions.

Every candidate task is run three ways in the sandbox (a batch per library and side):
the old program on the old version, the old program on the new version, and the reference
migration on the new version. The reference's results on the new version are the expected
values. A task is kept only if the old program reproduces them on the old version (the tests
describe what the old code did), fails every hidden test on the new version (the change really
breaks it, so submitting the old code scores 0 by construction) and fails at least one public
test there (the agent can see the breakage), and the reference passes the static checks. The
counts of dropped tasks per reason are stored next to the tasks (``validation.json``).

Splits are drawn per API change, so the changes of the test split never appear in training.
"""

from __future__ import annotations

import hashlib
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

from arenas.engines.cache import cached_build
from arenas.engines.sandbox import Limits, RunResult, run_subprocess
from arenas.migration import envs
from arenas.migration.catalog import DOMAINS, Change, all_changes, fill, side
from arenas.types import Task
from arenas.verifiers.migration import guard_violations, outcomes, removed_api_uses

PUBLIC = 2
"""Test calls shown to the agent; the rest of each task's calls are hidden."""
SPLITS = ("train", "train", "train", "dev", "test")


def change_split(change: Change) -> str:
    """train/dev/test by a hash of the change id, balanced within each library."""
    same = sorted((c for c in all_changes() if c.library == change.library),
                  key=lambda c: hashlib.sha256(c.id.encode()).hexdigest())
    return SPLITS[same.index(change) % len(SPLITS)]


def candidates(libraries: list[str] | None = None) -> list[dict[str, Any]]:
    """Every (change, domain) program, before validation."""
    out = []
    for change in all_changes():
        if libraries and change.library not in libraries:
            continue
        for i, domain in enumerate(DOMAINS):
            rng = random.Random(f"{change.id}/{i}")
            entry = fill(change.entry, domain)
            description = fill(change.description, domain)
            head = f'"""{description}"""\n\n'  # a module docstring, as real modules have
            calls = [f"{entry}({args})" for args in change.inputs(rng, domain)]
            out.append({"id": f"{change.id}/{domain['entity']}", "change": change, "entry": entry,
                        "old": head + fill(side(change.program, "old"), domain),
                        "new": head + fill(side(change.program, "new"), domain),
                        "description": description, "calls": calls,
                        "removed": [fill(p, domain) for p in change.removed]})
    return out


def _batch(python: Path, library: str, items: list[dict[str, Any]], which: str) -> dict[str, RunResult | Any]:
    files = {f"t{i}.py": item[which] for i, item in enumerate(items)}
    jobs = [{"name": f"t{i}", "calls": item["calls"], "aliases": dict(item["change"].aliases)}
            for i, item in enumerate(items)]
    request = {"mode": "batch", "module": envs.LIBRARIES[library][0], "jobs": jobs}
    result = run_subprocess(python, request, files, Limits(cpu_s=300, wall_s=600))
    jobs_out = (result.payload or {}).get("jobs", {})
    return {item["id"]: jobs_out.get(f"t{i}") for i, item in enumerate(items)}


def _as_run(results: list[Any] | None, version: str) -> RunResult:
    payload = None if results is None else {"results": results, "version": version}
    return RunResult(0, "", "", 0.0, payload=payload)


def validate_library(library: str, items: list[dict[str, Any]]) -> tuple[list[dict], dict[str, list[str]]]:
    old_py, new_py = (envs.venv_python(envs.VenvSpec(library, s)) for s in ("old", "new"))
    _, old_v, new_v = envs.LIBRARIES[library]
    ref_new = _batch(new_py, library, items, "new")
    old_old = _batch(old_py, library, items, "old")
    old_new = _batch(new_py, library, items, "old")
    kept, dropped = [], {}
    for item in items:
        ref = ref_new[item["id"]]
        if not ref or not all(r.get("ok") for r in ref):
            dropped.setdefault("reference fails on the new version", []).append(item["id"])
            continue
        expected = [r["value"] for r in ref]
        if not all(outcomes(_as_run(old_old[item["id"]], old_v), expected, old_v)):
            dropped.setdefault("old program differs on the old version", []).append(item["id"])
            continue
        on_new = outcomes(_as_run(old_new[item["id"]], new_v), expected, new_v)
        if any(on_new[PUBLIC:]) or all(on_new[:PUBLIC]):
            dropped.setdefault("old program not broken by the new version", []).append(item["id"])
            continue
        removed = item["removed"]
        if guard_violations(item["new"]) or removed_api_uses(item["new"], removed) \
                or (removed and not removed_api_uses(item["old"], removed)):
            dropped.setdefault("static checks disagree", []).append(item["id"])
            continue
        kept.append(_task_dict(item, expected, old_v, new_v))
    return kept, dropped


def _task_dict(item: dict[str, Any], expected: list[Any], old_v: str, new_v: str) -> dict[str, Any]:
    change: Change = item["change"]
    public = [{"call": c, "expected": e} for c, e in zip(item["calls"][:PUBLIC], expected[:PUBLIC], strict=True)]
    return {
        "id": item["id"], "split": change_split(change),
        "prompt": {"library": change.library, "module": envs.LIBRARIES[change.library][0],
                   "old_version": old_v, "new_version": new_v, "description": item["description"],
                   "code": item["old"], "entry": item["entry"], "public_tests": public,
                   "aliases": dict(change.aliases)},
        "reference": {"code": item["new"], "calls": item["calls"], "expected": expected, "public": PUBLIC,
                      "removed": item["removed"]},
        "meta": {"change": change.id, "summary": change.summary, "cite": change.cite},
    }


def _catalog_digest() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for p in sorted([*here.joinpath("catalog").glob("*.py"), *here.joinpath("locks").glob("*.txt"),
                     here / "tasks.py"]):
        h.update(p.read_bytes())
    from arenas.engines import sandbox_harness

    h.update(Path(sandbox_harness.__file__).read_bytes())
    return h.hexdigest()[:12]


def build(folder: Path, libraries: list[str] | None = None, progress: bool = False) -> None:
    from arenas.progress import StatusBar

    libs = libraries or list(envs.LIBRARIES)
    all_items = candidates(libs)
    tasks, report = [], {}
    with StatusBar("migration tasks", len(libs), enabled=progress) as bar:
        for lib in libs:
            items = [it for it in all_items if it["change"].library == lib]
            kept, dropped = validate_library(lib, items)
            tasks += kept
            report[lib] = {"candidates": len(items), "kept": len(kept), "dropped": {k: len(v) for k, v in dropped.items()}, "dropped_ids": dropped,
                           "changes": len({t["meta"]["change"] for t in kept})}
            bar.advance(f"{lib}: {len(kept)}/{len(items)}")
    (folder / "tasks.json").write_text(json.dumps(tasks, indent=0))
    (folder / "validation.json").write_text(json.dumps(report, indent=1))


def data_folder(libraries: list[str] | None = None, progress: bool = False) -> Path:
    """The validated task folder for ``libraries`` (all by default), built on first use."""
    libs = sorted(libraries or envs.LIBRARIES)
    tag = "all" if libs == sorted(envs.LIBRARIES) else "-".join(libs)
    return cached_build(f"migration/tasks-{_catalog_digest()}-{tag}",
                        lambda tmp: build(tmp, libs, progress))


@cache
def load_all(libraries: tuple[str, ...] | None = None) -> list[Task]:
    rows = json.loads((data_folder(list(libraries) if libraries else None) / "tasks.json").read_text())
    return [Task(r["id"], r["split"], r["prompt"], r["reference"], r["meta"]) for r in rows]


def load_tasks(split: str, libraries: tuple[str, ...] | None = None) -> list[Task]:
    return [t for t in load_all(libraries) if t.split == split]


def validation_report(libraries: tuple[str, ...] | None = None) -> dict[str, Any]:
    return json.loads((data_folder(list(libraries) if libraries else None) / "validation.json").read_text())
