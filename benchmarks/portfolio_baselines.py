"""Every portfolio baseline on one whole era: log return, Sharpe, max drawdown, turnover.

    python benchmarks/portfolio_baselines.py [--split test] [--rebalance weekly] [--cost-bps 10]
                                             [--seed 0] [--plot docs/img/portfolio_equity.png]

Prints a markdown table (the equal-weight rebalanced portfolio is the reward's benchmark and the
reference row) and saves the equity curves. Every row is re-scored by the verifier from the
episode's action log (asserted equal to the arena's breakdown). Same arguments -> same numbers: the rules are
deterministic and ``random`` is seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import arenas
from arenas.portfolio.baselines import HEURISTIC, NAMES
from arenas.verifiers import portfolio as pv


def run(arena, name: str, seed: int) -> tuple[dict, np.ndarray]:
    obs = arena.reset(arena.tasks(arena.split)[0], seed=seed)
    policy = arena.policy(name)
    log = []
    while not (result := arena.step(action := policy(obs))).done:
        log.append(action.structured)
        obs = result.observation
    log.append(action.structured)
    replay = pv.replay(log, arena.episode_reference(arena.task))
    assert abs(replay.breakdown.total - result.info["reward_breakdown"]["total"]) < 1e-9
    stats = pv.episode_stats(replay.targets, arena.episode_reference(arena.task))
    return result.info["reward_breakdown"], stats.agent.log_returns


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--rebalance", default="weekly")
    ap.add_argument("--cost-bps", type=float, default=10.0)
    ap.add_argument("--universe", default="sp500")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="docs/img/portfolio_equity.png")
    args = ap.parse_args()
    arena = arenas.make("portfolio", split=args.split, universe=args.universe, rebalance=args.rebalance,
                        horizon_days=0, cost_bps=args.cost_bps)
    task = arena.tasks(args.split)[0]
    ppy = 252 / task.reference["period_days"]
    print(f"{args.universe} {args.split} era, {task.prompt['start']} .. {task.reference['end']}, "
          f"{task.reference['periods']} {args.rebalance} rebalances, {args.cost_bps:g} bps, seed {args.seed}\n")
    print("| policy | log return | ann. return | Sharpe | max drawdown | turnover / yr | excess vs EW |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    curves = {}
    for name in [n for n in NAMES if n != "oracle"]:
        breakdown, log_returns = run(arena, name, args.seed)
        c, d = breakdown["components"], breakdown["details"]
        total = d["excess_log_return"]["log_return"]
        years = len(log_returns) / ppy
        label = f"{name} (heuristic)" if name == HEURISTIC else name
        print(f"| {label} | {total:+.4f} | {math.expm1(total / years):+.2%} | {d['sharpe_diff']['sharpe']:.3f} "
              f"| {c['max_drawdown']:.2%} | {c['turnover']:.2f} | {round(c['excess_log_return'], 12) + 0.0:+.4f} |")
        curves[name] = np.exp(np.concatenate([[0.0], np.cumsum(log_returns)]))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        days = task.reference["t0"] + task.reference["period_days"] * np.arange(task.reference["periods"] + 1)
        dates = arena.data.dates[days]
        fig, ax = plt.subplots(figsize=(9, 5))
        for name, curve in curves.items():
            ax.plot(dates, curve, label=name, lw=2.2 if name in ("equal_weight", HEURISTIC) else 1.2)
        ax.set_ylabel("portfolio value (start = 1)")
        ax.set_title(f"{args.universe} {args.split} era, {args.rebalance} rebalancing, {args.cost_bps:g} bps costs")
        ax.grid(alpha=0.3)
        ax.legend(ncol=2, fontsize=9)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110, metadata={"Software": None})
        print(f"equity curves: {args.plot}")


if __name__ == "__main__":
    main()
