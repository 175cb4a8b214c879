"""Training metrics: per-step JSONL (the record), TensorBoard (for watching), a learning-curve PNG."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arenas.trajectory import Trajectory


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def episode_metrics(trajs: Sequence[Trajectory], prefix: str = "") -> dict[str, float]:
    """Reward mean/std (total and per rubric component), success, invalid-action rate, lengths."""
    ok = [t for t in trajs if t.error is None]
    out: dict[str, float] = {f"{prefix}episodes": float(len(trajs)),
                             f"{prefix}error_rate": (len(trajs) - len(ok)) / len(trajs) if trajs else 0.0}
    if not ok:
        return out
    out[f"{prefix}reward_mean"], out[f"{prefix}reward_std"] = _mean_std([t.reward for t in ok])
    components: dict[str, list[float]] = {}
    for t in ok:
        for name, value in ((t.breakdown or {}).get("components") or {}).items():
            components.setdefault(name, []).append(float(value))
    for name, values in sorted(components.items()):
        out[f"{prefix}reward/{name}_mean"], out[f"{prefix}reward/{name}_std"] = _mean_std(values)
    turns = sum(len(t.turns) for t in ok)
    out[f"{prefix}success_rate"] = sum(t.success for t in ok) / len(ok)
    out[f"{prefix}invalid_action_rate"] = sum(t.invalid_actions for t in ok) / turns if turns else 0.0
    out[f"{prefix}turns_mean"] = turns / len(ok)
    agent_tokens = [sum((t.tokens or {}).get("mask") or []) for t in ok]
    out[f"{prefix}agent_tokens_mean"] = sum(agent_tokens) / len(ok)
    return out


class MetricsLogger:
    """Appends one JSON object per step to ``metrics.jsonl`` and mirrors scalars to TensorBoard."""

    def __init__(self, out: Path, tensorboard: bool = True, enabled: bool = True):
        """``enabled=False`` writes nothing (data-parallel ranks other than 0)."""
        self.path = out / "metrics.jsonl"
        self._f = None
        self._tb = None
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(out / "tb"))
            except ImportError:
                self._tb = None

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if self._f is None:
            return
        clean = {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else None) for k, v in metrics.items()}
        self._f.write(json.dumps({"step": step, **clean}) + "\n")
        self._f.flush()
        if self._tb is not None:
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(k, v, step)
            self._tb.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
        if self._tb is not None:
            self._tb.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def plot_learning_curve(metrics_path: str | Path, png_path: str | Path) -> Path | None:
    """Learning curve against training steps; None when matplotlib is missing or nothing was logged.

    The top panel is the held-out evaluation (``eval/`` rows: the same fixed tasks and seeds at
    every point, mean reward ± standard error), the only curve on which a rise means learning.
    The bottom panel shows the training batches' mean reward, which also moves with the mix of
    tasks drawn at each step (hence labelled so), and the share of dead groups (all-equal rewards).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = read_metrics(metrics_path)
    train = [r for r in rows if r.get("reward_mean") is not None]
    evals = [r for r in rows if r.get("eval/reward_mean") is not None]
    if not train and not evals:
        return None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    if evals:
        steps = [r["step"] for r in evals]
        sem = [(r.get("eval/reward_std") or 0.0) / math.sqrt(max(r.get("eval/episodes") or 1, 1)) for r in evals]
        top.errorbar(steps, [r["eval/reward_mean"] for r in evals], yerr=sem, marker="o", capsize=3,
                     color="tab:blue", label="held-out mean reward (fixed tasks) ± s.e.")
        rates = top.twinx()  # rates live on [0, 1], rewards on the arena's own scale
        for key, label, color in (("eval/success_rate", "success rate", "tab:green"),
                                  ("eval/invalid_action_rate", "invalid-action rate", "tab:red")):
            if any(r.get(key) is not None for r in evals):
                rates.plot(steps, [r.get(key) for r in evals], marker=".", linestyle="--", color=color,
                           label=f"held-out {label} (right axis)")
        rates.set_ylim(-0.02, 1.02)
        rates.set_ylabel("rate")
        handles = [h for ax in (top, rates) for h in ax.get_legend_handles_labels()[0]]
        top.legend(handles, [h.get_label() for h in handles], fontsize=8)
    else:
        top.text(0.5, 0.5, "no held-out evaluation (set eval_tasks / eval_every)", ha="center", va="center",
                 transform=top.transAxes)
    top.set_ylabel("eval reward")
    top.set_title("GRPO learning curve")
    top.grid(alpha=0.3)
    if train:
        steps = [r["step"] for r in train]
        bottom.plot(steps, [r["reward_mean"] for r in train], color="tab:gray",
                    label="train batch mean reward (task mix varies per step)")
        if any(r.get("dead_group_share") is not None for r in train):
            bottom.plot(steps, [r.get("dead_group_share") for r in train], color="tab:red", linestyle=":",
                        label="dead-group share")
        bottom.legend(fontsize=8)
    bottom.set_xlabel("training step")
    bottom.set_ylabel("train reward")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    png_path = Path(png_path)
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
