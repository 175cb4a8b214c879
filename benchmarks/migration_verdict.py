"""Migration arena speed: the verdict's wall time against a bare ``python -c "import <lib>"`` in
the same venv (target: median verdict <= 1.5 s and <= 2x the bare import), cached venv
re-creation time (target <= 1 s per venv), and 4 concurrent verdicts without misfiring timeouts.

    python benchmarks/migration_verdict.py [--n 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from arenas.migration import envs
from arenas.migration.arena import RUBRIC, MigrationConfig, _context
from arenas.migration.tasks import load_all
from arenas.verifiers import migration as verifier


def paired(task, python: str, n: int) -> tuple[float, float]:
    """Median verdict and median bare import, measured interleaved so load changes hit both."""
    context = _context(task, MigrationConfig())
    verdicts, imports = [], []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run([python, "-I", "-c", f"import {task.prompt['module']}"], check=True)
        imports.append(time.perf_counter() - t0)
        verifier._RUNS.clear()
        t0 = time.perf_counter()
        b = RUBRIC.score({"code": task.reference["code"] + f"\n# run {i}\n"}, task.reference, context)
        verdicts.append(time.perf_counter() - t0)
        assert b.total == 1.0, b.details
    return statistics.median(verdicts), statistics.median(imports)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=9)
    args = ap.parse_args()
    tasks = load_all()
    print(f"{'library':12s} {'verdict s':>10s} {'bare import s':>14s} {'ratio':>6s}")
    ratios = []
    for lib in envs.LIBRARIES:
        task = next(t for t in tasks if t.prompt["library"] == lib)
        python = str(envs.venv_python(envs.VenvSpec(lib, "new")))
        v, b = paired(task, python, args.n)
        ratios.append(v / b)
        print(f"{lib:12s} {v:10.3f} {b:14.3f} {v / b:6.2f}")
    print(f"median verdict/import ratio: {statistics.median(ratios):.2f}")
    t0 = time.perf_counter()
    envs.ensure_all()
    print(f"cached venv check: {(time.perf_counter() - t0) / len(envs.all_specs()):.4f} s per venv")
    for lib in ("pandas", "jinja2"):  # re-create a deleted venv from uv's warm cache (hardlinks)
        spec = envs.VenvSpec(lib, "new")
        shutil.rmtree(envs.venv_python(spec).parent.parent.parent)
        t0 = time.perf_counter()
        envs.venv_python(spec)
        print(f"re-created {spec.name} from the uv cache: {time.perf_counter() - t0:.2f} s")
    sample = [t for t in tasks if t.split == "test"][:8]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        totals = list(pool.map(lambda t: RUBRIC.score({"code": t.reference["code"] + "\n# c\n"}, t.reference,
                                                      _context(t, MigrationConfig())).total, sample))
    print(f"4 concurrent verdicts x {len(sample)}: all 1.0 = {all(x == 1.0 for x in totals)}, "
          f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
