"""Every portfolio baseline on one whole era and on the split's episode windows, with intervals.

    python benchmarks/portfolio_baselines.py [--split test] [--rebalance weekly] [--cost-bps 10]
                                             [--universes sp500 factors] [--seed 0]
                                             [--plot docs/img/portfolio_equity.png]

1. Whole era (first universe): log return, Sharpe (annualised by the bar frequency: 52 weekly),
   max drawdown, turnover, excess over the equal-weight rebalanced portfolio (the reward's
   benchmark and the reference row). Every row is re-scored by the verifier from the episode's
   action log (asserted equal to the arena's breakdown).
2. Episode windows (every universe; ``factors`` is the held-out market): mean episode reward with
   two 95% intervals, the moving-block bootstrap over time that run summaries use and the naive
   Student t that treats the overlapping windows as independent, and their ratio.

The arena runs with its defaults, so the text view is anonymised (rewards are bit-identical either
way). Same arguments -> same numbers: the rules are deterministic, ``random`` is seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import arenas
from arenas.portfolio.baselines import HEURISTIC, NAMES
from arenas.stats import block_bootstrap_ci, mean_ci, overlap_block
from arenas.verifiers import portfolio as pv

POLICIES = [n for n in NAMES if n != "oracle"]


def run(arena, task, name: str, seed: int) -> tuple[dict, np.ndarray]:
    obs = arena.reset(task, seed=seed)
    policy = arena.policy(name)
    log = []
    while not (result := arena.step(action := policy(obs))).done:
        log.append(action.structured)
        obs = result.observation
    log.append(action.structured)
    reference = arena.episode_reference(arena.task)
    replay = pv.replay(log, reference)
    assert abs(replay.breakdown.total - result.info["reward_breakdown"]["total"]) < 1e-9
    return result.info["reward_breakdown"], pv.episode_stats(replay.targets, reference).agent.log_returns


def label(name: str) -> str:
    return f"{name} (heuristic)" if name == HEURISTIC else name


def whole_era(args: argparse.Namespace) -> None:
    arena = arenas.make("portfolio", split=args.split, universe=args.universes[0], rebalance=args.rebalance,
                        horizon_days=0, cost_bps=args.cost_bps)
    task = arena.tasks(args.split)[0]
    ppy = arena.episode_reference(task).periods_per_year
    print(f"{args.universes[0]} {args.split} era, {arena.data.date(task.reference['t0'])} .. {task.reference['end']}, "
          f"{task.reference['periods']} {args.rebalance} rebalances, {args.cost_bps:g} bps, seed {args.seed}\n")
    print("| policy | log return | ann. return | Sharpe | max drawdown | turnover / yr | excess vs EW |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    curves = {}
    for name in POLICIES:
        breakdown, log_returns = run(arena, task, name, args.seed)
        c, d = breakdown["components"], breakdown["details"]
        total = d["excess_log_return"]["log_return"]
        years = len(log_returns) / ppy
        print(f"| {label(name)} | {total:+.4f} | {math.expm1(total / years):+.2%} | {d['sharpe_diff']['sharpe']:.3f} "
              f"| {c['max_drawdown']:.2%} | {c['turnover']:.2f} | {round(c['excess_log_return'], 12) + 0.0:+.4f} |")
        curves[name] = np.exp(np.concatenate([[0.0], np.cumsum(log_returns)]))
    if args.plot:
        plot(arena, task, curves, args)


def windows(args: argparse.Namespace, universe: str) -> None:
    arena = arenas.make("portfolio", split=args.split, universe=universe, rebalance=args.rebalance,
                        cost_bps=args.cost_bps)
    tasks = sorted(arena.tasks(args.split), key=lambda t: t.reference["t0"])
    spans = [(t.reference["t0"], t.reference["t0"] + t.reference["periods"] * t.reference["period_days"])
             for t in tasks]
    block = overlap_block(spans)
    held = "" if arena.tasks("train") else " (held-out market)"
    print(f"\n{universe}{held} {args.split}: {len(tasks)} windows of {tasks[0].reference['periods']} "
          f"{args.rebalance} periods, {arena.data.date(spans[0][0])} .. {arena.data.date(spans[-1][1])}; "
          f"block bootstrap with blocks of {block} windows (the mean overlap)\n")
    print("| policy | mean reward | 95% CI, block bootstrap | 95% CI, Student t (overlap ignored) | ratio |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for name in POLICIES:
        rewards = [run(arena, task, name, args.seed)[0]["total"] for task in tasks]
        mean, naive = mean_ci(rewards)
        ci = block_bootstrap_ci(rewards, block)
        ratios.append(ci / naive)
        print(f"| {label(name)} | {mean:+.4f} | ± {ci:.4f} | ± {naive:.4f} | {ci / naive:.1f}x |")
    print(f"\nblock-bootstrap intervals are {np.mean(ratios):.1f}x the naive ones on average")


def plot(arena, task, curves: dict[str, np.ndarray], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = task.reference["t0"] + task.reference["period_days"] * np.arange(task.reference["periods"] + 1)
    dates = arena.data.dates[days]
    fig, ax = plt.subplots(figsize=(9, 5))
    for name, curve in curves.items():
        ax.plot(dates, curve, label=label(name), lw=2.2 if name in ("equal_weight", HEURISTIC) else 1.2)
    ax.set_ylabel("portfolio value (start = 1)")
    ax.set_title(f"{args.universes[0]} {args.split} era, {args.rebalance} rebalancing, {args.cost_bps:g} bps costs")
    ax.grid(alpha=0.3)
    ax.legend(ncol=2, fontsize=9)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110, metadata={"Software": None})
    print(f"equity curves: {args.plot}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test")
    ap.add_argument("--rebalance", default="weekly")
    ap.add_argument("--cost-bps", type=float, default=10.0)
    ap.add_argument("--universes", nargs="+", default=["sp500", "factors"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="docs/img/portfolio_equity.png", help="'' for no plot")
    args = ap.parse_args()
    whole_era(args)
    for universe in args.universes:
        windows(args, universe)


if __name__ == "__main__":
    main()
