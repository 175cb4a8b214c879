"""Critic-mode baselines on miniF2F: ACC, TPR, TNR (CriticLeanBench's metrics) and accuracy per
mutation kind, every episode played through the arena and re-scored from its record.

    python benchmarks/lean_critic_baselines.py [--split test] [--seed 0]

Prints a markdown table; the last line is each baseline's accuracy as a ratio of always_correct's
(the base rate, 0.5 by construction). Same arguments -> same numbers.
"""

from __future__ import annotations

import argparse
import collections

import arenas
from arenas.tools import as_action
from arenas.verifiers.lean import critic_metrics

BASELINES = ("oracle", "always_correct", "heuristic", "random")


def play(arena, name: str, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    judgements, per_kind = [], collections.defaultdict(list)
    for i, task in enumerate(arena.tasks(arena.split)):
        obs = arena.reset(task=task, seed=seed + i)
        policy = arena.policy(name)
        turns = []
        while True:
            action = policy(obs)
            r = arena.step(action)
            turns.append({"action": as_action(action).to_dict(), "info": r.info, "reward": r.reward})
            obs = r.observation
            if r.done:
                break
        details = r.info["reward_breakdown"]["details"]["correct"]
        assert arena.rescore(task, turns).total == r.info["reward_breakdown"]["total"]
        judgements.append((details.get("judged_faithful"), task.reference["faithful"]))
        per_kind[task.reference["mutation"] or "faithful"].append(r.reward)
    return critic_metrics(judgements), {k: sum(v) / len(v) for k, v in sorted(per_kind.items())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = {}
    with arenas.make("lean", mode="critic", split=args.split) as arena:
        for name in BASELINES:
            rows[name] = play(arena, name, args.seed)
    kinds = list(next(iter(rows.values()))[1])
    print(f"critic mode, split {args.split}, {int(rows['oracle'][0]['n'])} statements (half faithful)\n")
    print("| baseline | ACC | TPR | TNR | " + " | ".join(kinds) + " |")
    print("|---|---|---|---|" + "---|" * len(kinds))
    for name, (m, per_kind) in rows.items():
        print(f"| {name} | {m['acc']:.3f} | {m['tpr']:.3f} | {m['tnr']:.3f} | "
              + " | ".join(f"{per_kind[k]:.2f}" for k in kinds) + " |")
    base = rows["always_correct"][0]["acc"]
    print("\naccuracy / always_correct: " + ", ".join(f"{n} {rows[n][0]['acc'] / base:.2f}x" for n in BASELINES))


if __name__ == "__main__":
    main()
