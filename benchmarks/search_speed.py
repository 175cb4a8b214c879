"""Search arena speed: retrieval, a rewrite step with its verdict, and the index build, each against a
baseline measured in the same run.

- one exact retrieval (the gold passage's rank) vs ``bm25s.BM25.retrieve`` top-100 on the same
  index and queries (target: <= 10 ms a query);
- an arena step (parse, retrieve, rubric with every component and guard, bookkeeping) vs the bare
  bm25s retrieve loop (target: overhead <= 10%, a step <= 15 ms);
- building the corpus, index and conversations into an empty cache (target: < 60 s) and loading a
  cached build (target: < 2 s).

    python benchmarks/search_speed.py [--queries 600] [--skip-build]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from arenas.engines.search import Index, tokenize
from arenas.search import corpus
from arenas.search.arena import SearchArena


def _per_query_ms(fn, items) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - t0) / len(items) * 1e3


def retrieval(index: Index, questions: list[dict]) -> tuple[float, float]:
    queries = [q["rewrite"] for q in questions]
    bare = _per_query_ms(lambda q: index.bm25.retrieve([tokenize(q)], k=100, show_progress=False, n_threads=1),
                         queries)
    ours = _per_query_ms(lambda q: index.rank(q["rewrite"], q["gold"]), questions)
    return bare, ours


def steps(arena: SearchArena, n: int) -> tuple[float, int]:
    """Mean ms per arena step playing the oracle's rewrites over whole conversations."""
    done, elapsed = 0, 0.0
    for task in arena.tasks("test"):
        arena.reset(task=task)
        for q in task.reference["questions"]:
            action = f"<think>resolve</think><rewrite>{q['rewrite']}</rewrite>"
            t0 = time.perf_counter()
            arena.step(action)
            elapsed += time.perf_counter() - t0
            done += 1
        if done >= n:
            break
    return elapsed / done * 1e3, done


def build_times() -> tuple[float, float]:
    """A fresh build into an empty cache, then a load of it, each in a new process."""
    code = "import time; t=time.perf_counter(); from arenas.search import corpus; corpus.data_folder(progress=False);" \
           "corpus.passages(); from arenas.engines.search import load_index; load_index(corpus.index_folder());" \
           "print(time.perf_counter()-t)"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "ARENAS_HOME": home}
        build = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout.split()[-1])
        load = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1])
    return build, load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    arena = SearchArena(split="test", max_turns=40)
    questions = [q for t in arena.tasks("test") for q in t.reference["questions"]][: args.queries]
    print(f"corpus: {len(arena.index.ids):,} passages; {len(questions)} test questions (oracle rewrites)")
    bare, ours = retrieval(arena.index, questions)
    print(f"bm25s retrieve top-100 (baseline): {bare:.3f} ms/query")
    print(f"exact rank of the gold passage:    {ours:.3f} ms/query  ratio {ours / bare:.2f}  (target <= 10 ms)")
    step_ms, n = steps(arena, args.queries)
    print(f"arena rewrite step incl. verdict:  {step_ms:.3f} ms/step over {n} steps  ratio to bare retrieve "
          f"{step_ms / bare:.2f}  overhead {100 * (step_ms / bare - 1):+.0f}%  (targets <= 15 ms, <= +10%)")
    if not args.skip_build:
        build, load = build_times()
        print(f"first build (corpus, index, conversations): {build:.1f} s  (target < 60 s)")
        print(f"cached load (checksums, passages, index):   {load:.2f} s  ratio {load / build:.3f}  (target < 2 s)")


if __name__ == "__main__":
    corpus.data_folder()
    main()
