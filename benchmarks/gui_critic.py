"""Critic mode baselines: accuracy, TPR and TNR of the oracle, always-"correct" and random critics.

Each critic task (test split) is judged by each critic on the same computed label; the label mix
(share of correct proposals: the always-"correct" critic's accuracy) is printed per proposal kind.

    python benchmarks/gui_critic.py -n 200
"""

from __future__ import annotations

import argparse
import collections
import random
import time

from arenas.gui.arena import GUIArena
from arenas.verifiers.gui import critic_metrics, parse_critique


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--split", default="test")
    ap.add_argument("--label", default="on_track", choices=("on_track", "reachable"))
    args = ap.parse_args()
    rng = random.Random(0)
    critics = {
        "oracle": None,
        "always-correct": lambda: "<judgement>correct</judgement>",
        "random": lambda: rng.choice(["<judgement>correct</judgement>",
                                      "<judgement>incorrect</judgement><suggestion>click(ref=1)</suggestion>"]),
    }
    pairs: dict[str, list] = collections.defaultdict(list)
    reward: dict[str, float] = collections.defaultdict(float)
    kinds: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    with GUIArena(mode="critic", split=args.split, critic_label=args.label) as arena:
        tasks = arena.sample_tasks(args.split, args.n, seed=0)
        for task in tasks:
            for name, make in critics.items():
                obs = arena.reset(task=task)
                answer = arena.policy("oracle")(obs) if make is None else make()
                r = arena.step(answer)
                reward[name] += r.reward
                pairs[name].append((parse_critique(answer)["judgement"], arena.critic["label"]))
            kinds[(arena.critic["kind"], arena.critic["label"])] += 1
    elapsed = time.perf_counter() - t0
    print(f"{args.n} critic tasks ({args.split}, label={args.label}), {elapsed / args.n / len(critics):.2f} s per episode")
    print(f"{'critic':16s} {'reward':>7s} {'accuracy':>9s} {'TPR':>6s} {'TNR':>6s}")
    for name in critics:
        m = critic_metrics(pairs[name])
        print(f"{name:16s} {reward[name] / args.n:7.3f} {m['accuracy']:9.3f} {m['tpr']:6.3f} {m['tnr']:6.3f}")
    print(f"base rate (share of correct proposals): {critic_metrics(pairs['oracle'])['base_rate_correct']:.3f}")
    for (kind, label), n in sorted(kinds.items()):
        print(f"  {kind:16s} {label:10s} {n}")


if __name__ == "__main__":
    main()
