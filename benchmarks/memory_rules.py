"""Priority rules, ``best_rule`` and the search agent against the XLA-like heuristic, per workload.

    python benchmarks/memory_rules.py [--tiers tight medium] [--plot docs/img/memory_margins.png]

For every packaged workload, profile and capacity tier, each planner's action log is scored by
the verifier (``T_heuristic / T_agent - 1``, the arena's reward), with the heuristic's own log as
the baseline measured in the same run. Prints a markdown table (cells: ``best_rule`` margin over
the heuristic / **search margin over the heuristic** (search margin over ``best_rule``)), which
rule ``best_rule`` chose how often, the generalisation split of every workload, and saves a plot.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

from arenas.memory import baselines, tasks, workloads
from arenas.memory.arena import episode_setup
from arenas.memory.cost import PROFILES
from arenas.memory.game import DEFAULT_ALIGNMENT, Game
from arenas.verifiers import memory as verifier

DEFAULT_PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "memory_margins.png"


def margin(plan: Game, setup) -> float:
    """The verifier's speed-up of ``plan`` over the heuristic (the arena's reward)."""
    verdict = verifier.speedup({"requests": baselines.requests_of(plan)},
                               {"baseline_requests": setup.baseline_requests}, {"problem": setup.problem})
    return verdict.score


def split_of(name: str) -> str:
    """``workload split / family split`` of a workload, e.g. ``test/train``."""
    return "/".join(next(s for s in ("train", "dev", "test") if name in tasks.split_workloads(s, mode))
                    for mode in ("workload", "family"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", nargs="+", default=list(tasks.CAPACITY_FRACTIONS), choices=list(tasks.CAPACITY_FRACTIONS))
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--workloads", nargs="+", default=workloads.names())
    parser.add_argument("--generations", type=int, default=8, help="search generations (budget)")
    parser.add_argument("--plot", default=str(DEFAULT_PLOT), help="'' for no plot")
    args = parser.parse_args()
    columns = [(p, t) for t in args.tiers for p in args.profiles]
    config = baselines.SearchConfig(generations=args.generations)
    print("| workload | split (workload/family) | buffers | " + " | ".join(
        f"{p} {t} ({tasks.CAPACITY_FRACTIONS[t]:.0%})" for p, t in columns) + " |")
    print("|---|---|---:|" + "---|" * len(columns))
    rows: dict[str, list[tuple[float, float]]] = {}
    chosen: Counter[str] = Counter()
    seconds = {"heuristic": 0.0, "best_rule": 0.0, "search": 0.0}
    for name in args.workloads:
        wl = workloads.load(name)
        cells, rows[name] = [], []
        for profile, tier in columns:
            cap = tasks.capacity_bytes(name, profile, tasks.CAPACITY_FRACTIONS[tier])
            t0 = time.perf_counter()
            setup = episode_setup(name, profile, cap, DEFAULT_ALIGNMENT)
            t1 = time.perf_counter()
            game = Game(wl, PROFILES[profile], cap, DEFAULT_ALIGNMENT, setup.touch)
            rule, plan = baselines.best_rule(game)
            t2 = time.perf_counter()
            found = baselines.search(game, np.random.default_rng(0), config)
            t3 = time.perf_counter()
            for key, dt in zip(seconds, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                seconds[key] += dt
            chosen[rule] += 1
            m_rule, m_search = margin(plan, setup), margin(found, setup)
            rows[name].append((m_rule, m_search))
            cells.append(f"{m_rule:+.2%} / **{m_search:+.2%}** ({(1 + m_search) / (1 + m_rule) - 1:+.2%})")
        print(f"| {name} | {split_of(name)} | {wl.n_buffers} | " + " | ".join(cells) + " |")
    flat = np.array([c for r in rows.values() for c in r])
    over_rule = (1 + flat[:, 1]) / (1 + flat[:, 0]) - 1
    print(f"\n{len(flat)} cells. best_rule beats the heuristic in {int((flat[:, 0] > 1e-9).sum())} (mean "
          f"{flat[:, 0].mean():+.2%}, max {flat[:, 0].max():+.2%}, never worse: {bool((flat[:, 0] > -1e-12).all())}); "
          f"search beats the heuristic in {int((flat[:, 1] > 1e-9).sum())} (mean {flat[:, 1].mean():+.2%}) and "
          f"best_rule in {int((over_rule > 1e-9).sum())} (mean {over_rule.mean():+.2%}, never worse: "
          f"{bool((over_rule > -1e-12).all())}).")
    for mode in ("workload", "family"):
        parts = []
        for split in ("train", "dev", "test"):
            cells = np.array([c for n, r in rows.items() if n in tasks.split_workloads(split, mode) for c in r])
            if len(cells):
                parts.append(f"{split} best_rule {cells[:, 0].mean():+.2%} / search {cells[:, 1].mean():+.2%}")
        print(f"mean margins over the heuristic by {mode} split: " + "; ".join(parts))
    for tier in args.tiers:
        cells = np.array([r[j] for r in rows.values() for j, (_, t) in enumerate(columns) if t == tier])
        print(f"mean margins at {tier} capacity: best_rule {cells[:, 0].mean():+.2%} / search {cells[:, 1].mean():+.2%}")
    print("rules chosen by best_rule: " + ", ".join(f"`{r}` {n}" for r, n in chosen.most_common()))
    print(f"time: heuristic {seconds['heuristic']:.1f} s, best_rule {seconds['best_rule']:.1f} s, "
          f"search {seconds['search']:.1f} s in all")
    if args.plot:
        plot(rows, columns, Path(args.plot))


def plot(rows: dict[str, list[tuple[float, float]]], columns: list[tuple[str, str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows)
    fig, ax = plt.subplots(figsize=(max(9, len(names) * 0.55), 4.2))
    xs = np.arange(len(names))
    for j, label, color in ((0, "best_rule", "tab:orange"), (1, "search", "tab:blue")):
        values = [100 * np.mean([c[j] for c in rows[n]]) for n in names]
        ax.bar(xs + (j - 0.5) * 0.4, values, 0.4, label=label, color=color)
    ax.set_xticks(xs, names, rotation=60, ha="right")
    ax.set_ylabel("mean margin over the heuristic (%)")
    ax.set_title("mallocGame: best_rule and search vs the XLA-like greedy (mean over "
                 + ", ".join(f"{p} {t}" for p, t in columns) + ")", fontsize=9)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
