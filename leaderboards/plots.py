"""The site's plots (matplotlib, written as files: the site needs no script or CDN to show them)."""

from __future__ import annotations

import math
from pathlib import Path

from arenas.leaderboards.ranking import Standing
from arenas.leaderboards.ratings import entry_label


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def score_bars(rows: list[Standing], path: Path, title: str) -> Path:
    """The board's scores with their 95% intervals, best first."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(rows) + 1.2))
    labels = [entry_label(r.entry) for r in rows][::-1]
    values = [r.value for r in rows][::-1]
    err = [[0 if math.isnan(r.lo) else r.value - r.lo for r in rows][::-1],
           [0 if math.isnan(r.hi) else r.hi - r.value for r in rows][::-1]]
    ax.barh(labels, values, xerr=err, color="#4c72b0", ecolor="#222", capsize=3)
    ax.set_xlabel("score (errors count as 0), 95% cluster-bootstrap interval")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def component_bars(rows: list[Standing], path: Path, title: str) -> Path | None:
    """Mean of each reward component per entry (finished episodes), grouped bars."""
    names = sorted({c for r in rows for c in r.components})
    if not names:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(names) + 2), 3.2))
    width = 0.8 / max(1, len(rows))
    for i, r in enumerate(rows):
        xs = [j + i * width for j in range(len(names))]
        ax.bar(xs, [r.components.get(n, 0.0) for n in names], width, label=entry_label(r.entry))
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("mean component score")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def score_vs_cost(rows: list[Standing], path: Path, title: str) -> Path:
    """Score against tokens per episode, or against seconds per episode when no entry used a model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    by_tokens = any(r.tokens for r in rows)
    for r in rows:
        cost = (r.tokens if by_tokens else r.seconds) / r.episodes if r.episodes else 0.0
        ax.scatter([cost], [r.value], s=40)
        ax.annotate(f"{entry_label(r.entry)} ({r.entry.arena})", (cost, r.value), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel("tokens per episode" if by_tokens else "seconds per episode")
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rating_ladder(ratings: list, path: Path, title: str) -> Path:
    """Elo-scale ratings with their 95% intervals, best on top."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(ratings) + 1.2))
    rows = ratings[::-1]
    ax.errorbar([r.elo for r in rows], [r.player for r in rows], xerr=[[r.elo - r.lo for r in rows],
                                                                        [r.hi - r.elo for r in rows]],
                fmt="o", capsize=3, color="#4c72b0")
    ax.set_xlabel("rating (Bradley–Terry, Elo scale), 95% bootstrap interval")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
