"""Speed of the portfolio arena's structured view against a bare numpy drift loop.

    python benchmarks/portfolio_speed.py [--steps 50000]

Prints steps/s of (1) the bare loop (the same drift + cost arithmetic with nothing around it),
(2) ``PortfolioArena.step`` with Box actions, (3) the Gymnasium env, and the time of one full
5-year daily test-era episode per baseline. Targets: >= 20,000 steps/s for (2)/(3) and <= 0.5 s
per 5-year daily episode.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import arenas
from arenas.portfolio.baselines import NAMES


def bare_loop(gross: np.ndarray, actions: np.ndarray, cost: float = 1e-3) -> float:
    w = np.zeros(gross.shape[1])
    w[-1] = 1.0
    log_value = 0.0
    for k in range(len(actions)):
        u = actions[k] / actions[k].sum()
        turnover = float(np.abs(u[:-1] - w[:-1]).sum())
        held = u * gross[k % len(gross)]
        growth = float(held.sum())
        w = held / growth
        log_value += math.log(1 - cost * turnover) + math.log(growth)
    return log_value


def arena_steps(env_step, reset, actions: np.ndarray) -> int:
    reset()
    for a in actions:
        if env_step(a):
            reset()
    return len(actions)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50_000)
    args = ap.parse_args()
    arena = arenas.make("portfolio", rebalance="daily", horizon_days=252)
    n = arena.data.n_assets
    rng = np.random.default_rng(0)
    actions = rng.random((args.steps, n + 1)).astype(np.float32)
    gross = np.ones((252, n + 1))
    gross[:, :n] = np.exp(arena.data.log_returns[1:253])

    t = time.perf_counter()
    bare_loop(gross, actions)
    bare = args.steps / (time.perf_counter() - t)

    seeds = iter(range(10**9))

    def arena_step(a):
        return arena.step(a).done

    t = time.perf_counter()
    arena_steps(arena_step, lambda: arena.reset(seed=next(seeds)), actions)
    direct = args.steps / (time.perf_counter() - t)

    import gymnasium as gym

    env = gym.make("arenas/portfolio-v0", view="structured", rebalance="daily", horizon_days=252)

    def gym_step(a):
        _, _, term, trunc, _ = env.step(a)
        return term or trunc

    t = time.perf_counter()
    arena_steps(gym_step, lambda: env.reset(seed=next(seeds)), actions)
    gym_rate = args.steps / (time.perf_counter() - t)

    print(f"bare numpy drift loop   {bare:>10,.0f} steps/s")
    print(f"PortfolioArena.step     {direct:>10,.0f} steps/s  ratio to bare {direct / bare:.2f}")
    print(f"gymnasium env.step      {gym_rate:>10,.0f} steps/s  ratio to bare {gym_rate / bare:.2f}")

    full = arenas.make("portfolio", split="test", rebalance="daily", horizon_days=0)
    task = full.tasks("test")[0]
    print(f"\nfull test-era daily episode ({task.reference['periods']} steps, {task.id}):")
    for name in NAMES:
        full.reset(task, seed=0)
        full.policy(name)(None)  # warm-up: imports and first-call costs stay out of the timing
        t = time.perf_counter()
        obs = full.reset(task, seed=0)
        policy = full.policy(name)
        while True:
            result = full.step(policy(obs))
            obs = result.observation
            if result.done:
                break
        dt = time.perf_counter() - t
        total = result.info["reward_breakdown"]["details"]["excess_log_return"]["log_return"]
        print(f"  {name:<17}{dt:>7.3f} s  (target <= 0.5 s)  log return {total:+.4f}")


if __name__ == "__main__":
    main()
