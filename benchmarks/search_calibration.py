"""Search arena calibration: every baseline policy on a split, plus the data filter's statistics.

Prints a Markdown table (MRR@10, Recall@10, Recall@100, NDCG@3, mean reward, within-length share)
per policy and mode, the ratio of each to the oracle, and the share of candidate turns each filter
dropped. The raw utterance must score far below the oracle: if it does not, the filter is broken.

    python benchmarks/search_calibration.py [--split test] [--mode rewrite] [--n 0] [--samples 30]

``--samples N`` also prints N sampled question turns with their context (the README's data section).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from arenas.search import corpus
from arenas.search.arena import SearchArena

METRICS = ("mrr_at_10", "recall_at_10", "recall_at_100", "ndcg_at_3", "within_length")


def evaluate(mode: str, split: str, n: int) -> dict[str, dict[str, float]]:
    arena = SearchArena(split=split, mode=mode, max_turns=40)
    tasks = list(arena.tasks(split))[: n or None]
    rows = {}
    for name in arena.policies:
        per_question: dict[str, list[float]] = {m: [] for m in (*METRICS, "reward")}
        for task in tasks:
            obs = arena.reset(task=task, seed=0)
            policy = arena.policy(name)
            result = None
            while result is None or not result.done:
                result = arena.step(policy(obs))
                obs = result.observation
            for q in result.info["reward_breakdown"]["details"]["questions"]:
                for m in METRICS:
                    per_question[m].append(q["components"].get(m, 0.0))
                per_question["reward"].append(q["total"])
        rows[name] = {k: statistics.mean(v) for k, v in per_question.items()}
        rows[name]["questions"] = len(per_question["reward"])
    return rows


def print_table(mode: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n### mode={mode}\n")
    print("| policy | MRR@10 | Recall@10 | Recall@100 | NDCG@3 | mean reward | reward / oracle | within length |")
    print("|---|---|---|---|---|---|---|---|")
    oracle = rows["oracle"]["reward"] or 1.0
    for name, r in rows.items():
        print(f"| {name} | {r['mrr_at_10']:.3f} | {r['recall_at_10']:.3f} | {r['recall_at_100']:.3f} | "
              f"{r['ndcg_at_3']:.3f} | {r['reward']:.3f} | {r['reward'] / oracle:.2f} | {r['within_length']:.3f} |")
    print(f"\n({rows['oracle']['questions']} questions)")


def print_filter() -> None:
    print("\n### Data filter (candidate question turns)\n")
    print("| split | conversations | candidates | dropped: raw in top 10 | dropped: rewrite not in top 3 | kept |")
    print("|---|---|---|---|---|---|")
    for split in ("train", "dev", "test"):
        s = corpus.stats(split)
        c = s["candidates"]
        print(f"| {split} | {s['conversations']} | {c} | {s['dropped_raw_in_top10'] / c:.1%} | "
              f"{s['dropped_rewrite_not_top3'] / c:.1%} | {s['kept']} ({s['kept'] / c:.1%}) |")


def print_samples(split: str, k: int) -> None:
    rng = random.Random(0)
    convs = corpus.conversations(split)
    picked = []
    for conv in rng.sample(convs, len(convs)):
        scored = [i for i, t in enumerate(conv["turns"]) if t["scored"]]
        if scored:
            picked.append((conv, rng.choice(scored)))
        if len(picked) == k:
            break
    print(f"\n### {k} sampled question turns ({split})\n")
    for n, (conv, i) in enumerate(picked, 1):
        turn = conv["turns"][i]
        context = " / ".join(f"{t['utterance']}" for t in conv["turns"][:i])
        print(f"{n}. context: {context}\n   question: **{turn['utterance']}** ({turn['kind']})\n"
              f"   gold rewrite: {turn['rewrite']} (rank {turn['rewrite_rank']}; raw rank "
              f"{turn['raw_rank'] or 'none'}); answer: {turn['answer'][:140]}"
              + (f"; span: {turn['answer_span']}" if turn.get("answer_span") else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="test")
    ap.add_argument("--mode", default="both", choices=("rewrite", "agent", "both"))
    ap.add_argument("--n", type=int, default=0, help="conversations (0: all)")
    ap.add_argument("--samples", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    corpus.data_folder()
    for mode in ("rewrite", "agent") if args.mode == "both" else (args.mode,):
        print_table(mode, evaluate(mode, args.split, args.n))
    print_filter()
    if args.samples:
        print_samples(args.split, args.samples)
    print(f"\n(calibration took {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
