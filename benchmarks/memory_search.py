"""Search agent vs the XLA-like heuristic on every packaged workload, at tight capacity.

    python benchmarks/memory_search.py [--tiers tight medium] [--plot docs/img/memory_search_vs_heuristic.png]

Plays whole arena episodes with ``policy:search`` and reports its margin (the verifier's
``T_heuristic / T_search - 1``) per workload, profile and capacity tier, as a markdown table and
a bar chart. The heuristic's own speed-up over all-slow memory is the baseline measured alongside;
"(opt)" marks cells where the heuristic already reaches the conflict-free upper bound (every
buffer that fits the capacity on its own is in fast memory), so no agent can beat it there.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import arenas
from arenas.memory import workloads
from arenas.memory.cost import PROFILES
from arenas.memory.game import Game
from arenas.memory.tasks import CAPACITY_FRACTIONS, capacity_bytes

DEFAULT_PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "memory_search_vs_heuristic.png"


def play(arena: arenas.Arena, task: arenas.Task, policy: str) -> dict:
    obs = arena.reset(task, seed=0)
    act = arena.policy(policy)
    while True:
        result = arena.step(act(obs))
        obs = result.observation
        if result.done:
            return result.info["reward_breakdown"]["details"]["speedup"] | {
                "speedup": result.info["reward_breakdown"]["components"]["speedup"]}


def bound_time(name: str, profile: str, tier: str) -> float:
    """Program time with every buffer that fits on its own in fast memory (conflicts ignored)."""
    wl = workloads.load(name)
    game = Game(wl, PROFILES[profile], capacity_bytes(name, profile, CAPACITY_FRACTIONS[tier]))
    for b in range(wl.n_buffers):
        if game.footprint[b] <= game.capacity:
            game.put(b, 0)
    return game.cost.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", nargs="+", default=["tight", "medium"], choices=list(CAPACITY_FRACTIONS))
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--workloads", nargs="+", default=workloads.names())
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT)
    args = parser.parse_args()
    columns = [(p, t) for t in args.tiers for p in args.profiles]
    margins: dict[str, list[float]] = {}
    header = "| workload | buffers | " + " | ".join(
        f"{p} {t} ({CAPACITY_FRACTIONS[t]:.0%}): heur. vs slow / search margin" for p, t in columns) + " |"
    print(header)
    print("|" + "---|" * (2 + len(columns)))
    t_search = 0.0
    for name in args.workloads:
        arena = arenas.make("memory", workloads=[name], profiles=args.profiles, capacities=args.tiers)
        by_id = {t.id: t for t in arena.tasks("train")}
        cells, margins[name] = [], []
        for profile, tier in columns:
            task = by_id[f"{name}/{profile}/{tier}"]
            heur = play(arena, task, "heuristic")
            t0 = time.perf_counter()
            found = play(arena, task, "search")
            t_search += time.perf_counter() - t0
            margins[name].append(found["speedup"])
            opt = " (opt)" if heur["t_agent"] <= bound_time(name, profile, tier) * (1 + 1e-9) else ""
            cells.append(f"{heur['t_all_slow'] / heur['t_agent'] - 1:+.1%} / **{found['speedup']:+.2%}**{opt}")
        print(f"| {name} | {workloads.load(name).n_buffers} | " + " | ".join(cells) + " |")
    flat = [m for ms in margins.values() for m in ms]
    print(f"\nsearch beats the heuristic in {sum(m > 1e-9 for m in flat)}/{len(flat)} cells "
          f"(never worse: {all(m >= -1e-12 for m in flat)}); mean margin {sum(flat) / len(flat):+.2%}; "
          f"search time {t_search:.1f} s in all")
    plot(margins, columns, args.plot)


def plot(margins: dict[str, list[float]], columns: list[tuple[str, str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(margins)
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(max(8, len(names) * 0.8), 4))
    for j, (profile, tier) in enumerate(columns):
        xs = [i + (j - (len(columns) - 1) / 2) * width for i in range(len(names))]
        ax.bar(xs, [100 * margins[n][j] for n in names], width, label=f"{profile}, {tier} capacity")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylabel("search margin over heuristic (%)")
    ax.set_title("mallocGame: beam search over priority orders vs the XLA-like greedy")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
