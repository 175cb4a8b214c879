"""Speed of the SQL test-suite verdict against plain execution accuracy, in the same process.

For each task question (the gold query doubles as the prediction, the slowest case: it must
match on every database), three timings:

- ``test-suite, cold``: the first verdict, gold computed on the original and its neighbours,
  then the prediction on all 9 databases (the target: median <= 10 ms on Chinook);
- ``test-suite, warm``: the same verdict again, gold results cached in memory;
- ``execution accuracy``: the baseline, gold and prediction on the original database only.

Neighbour databases are built (or loaded from the cache) before timing, and so is each gold's
distilled suite (computed once per gold and kept on disk); their build times are printed
separately, and the in-memory caches are emptied before the cold timings (a cold verdict reads the
distilled suite from disk and rebuilds its targeted copies).

    python benchmarks/sql_verifier.py --db chinook -n 300
"""

from __future__ import annotations

import argparse
import statistics
import time

from arenas.sql.data import database_path
from arenas.sql.tasks import load_tasks
from arenas.verifiers.sql import clear_caches, execution_accuracy, gold_suite, test_suite_equivalent
from arenas.verifiers.sql_suite import neighbour_paths


def questions(db: str, n: int) -> list[tuple[dict, dict]]:
    """Up to ``n`` (reference, context) pairs of ``db``, over all splits, deterministic order."""
    path = str(database_path(db))
    out = []
    for split in ("train", "dev", "test"):
        for task in load_tasks(split):
            if task.prompt["db"] != db:
                continue
            for i in range(len(task.reference["gold"])):
                out.append((task.reference, {"db": db, "db_path": path, "question": i}))
    seen: set[str] = set()
    unique = []
    for ref, ctx in out:  # one verdict per distinct gold query: the cold timing must be cold
        gold = ref["gold"][ctx["question"]]
        if gold not in seen:
            seen.add(gold)
            unique.append((ref, ctx))
    return unique[:n]


def median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="chinook", help="database whose tasks are verified")
    parser.add_argument("-n", type=int, default=300, help="number of distinct gold queries")
    args = parser.parse_args()

    start = time.perf_counter()
    neighbour_paths(database_path(args.db))
    build_s = time.perf_counter() - start
    items = questions(args.db, args.n)
    start = time.perf_counter()
    for ref, ctx in items:
        gold_suite(ctx["db_path"], ref["gold"][ctx["question"]], order=ref["order_matters"][ctx["question"]])
    distill_s = time.perf_counter() - start
    clear_caches()

    cold, warm, baseline = [], [], []
    failures = 0
    for ref, ctx in items:
        gold = ref["gold"][ctx["question"]]
        t0 = time.perf_counter()
        execution_accuracy(gold, ref, ctx)
        t1 = time.perf_counter()
        verdict = test_suite_equivalent(gold, ref, ctx)
        t2 = time.perf_counter()
        test_suite_equivalent(gold, ref, ctx)
        t3 = time.perf_counter()
        baseline.append(t1 - t0)
        cold.append(t2 - t1)
        warm.append(t3 - t2)
        failures += not verdict.passed

    print(f"database {args.db}: {len(items)} distinct gold queries; neighbours ready in {build_s:.2f} s, "
          f"distilled suites in {distill_s:.2f} s")
    print(f"execution accuracy (baseline, 1 database): median {median_ms(baseline):7.3f} ms")
    print(f"test-suite verdict, cold (gold + prediction): median {median_ms(cold):7.3f} ms "
          f"(target <= 10 ms; p90 {1000 * statistics.quantiles(cold, n=10)[-1]:.3f} ms)")
    print(f"test-suite verdict, warm (gold cached):       median {median_ms(warm):7.3f} ms")
    print(f"ratio cold / baseline: {statistics.median(cold) / statistics.median(baseline):.1f}x; "
          f"warm / baseline: {statistics.median(warm) / statistics.median(baseline):.1f}x")
    print(f"oracle self-check: {len(items) - failures}/{len(items)} gold queries equivalent to themselves")


if __name__ == "__main__":
    main()
