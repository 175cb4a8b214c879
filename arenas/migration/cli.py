"""``arenas build-data migration``: create the venvs and validate the tasks."""

from __future__ import annotations

import json
import time


def build_all(libraries: list[str] | None = None, progress: bool = True) -> dict:
    """Builds every venv, then the validated tasks; returns timings and validation counts."""
    from arenas.migration import envs, tasks

    t0 = time.perf_counter()
    venv_s = envs.ensure_all(libraries, progress=progress)
    t1 = time.perf_counter()
    folder = tasks.data_folder(libraries, progress=progress)
    report = json.loads((folder / "validation.json").read_text())
    return {"venvs_s": round(t1 - t0, 2), "per_venv_s": {k: round(v, 2) for k, v in venv_s.items()},
            "tasks_s": round(time.perf_counter() - t1, 2), "validation": report}


def build() -> None:
    """``arenas build-data migration``: create the venvs (uv, hash-pinned), validate the tasks."""
    out = build_all()
    for lib, row in out["validation"].items():
        print(f"{lib:12s} kept {row['kept']:3d}/{row['candidates']:3d} tasks, {row['changes']:2d} changes, "
              f"dropped {row['dropped'] or 'none'}")
    print(f"venvs {out['venvs_s']} s, tasks {out['tasks_s']} s")
