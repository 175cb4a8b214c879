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

    def __init__(self, out: Path, tensorboard: bool = True):
        self.path = out / "metrics.jsonl"
        out.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(out / "tb"))
            except ImportError:
                self._tb = None

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        clean = {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else None) for k, v in metrics.items()}
        self._f.write(json.dumps({"step": step, **clean}) + "\n")
        self._f.flush()
        if self._tb is not None:
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(k, v, step)
            self._tb.flush()

    def close(self) -> None:
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
    """Mean reward (± std band), success and invalid-action rates per step; None when matplotlib
    is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [r for r in read_metrics(metrics_path) if r.get("reward_mean") is not None]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    mean = [r["reward_mean"] for r in rows]
    std = [r.get("reward_std") or 0.0 for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, mean, label="mean reward", color="tab:blue")
    ax.fill_between(steps, [m - s for m, s in zip(mean, std, strict=True)],
                    [m + s for m, s in zip(mean, std, strict=True)], alpha=0.2, color="tab:blue")
    for key, label, color in (("success_rate", "success rate", "tab:green"),
                              ("invalid_action_rate", "invalid-action rate", "tab:red")):
        if any(r.get(key) is not None for r in rows):
            ax.plot(steps, [r.get(key) for r in rows], label=label, color=color, linestyle="--")
    ax.set_xlabel("step")
    ax.set_ylabel("reward")
    ax.set_title("GRPO learning curve")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png_path = Path(png_path)
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
