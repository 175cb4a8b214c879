"""``arenas export``: trajectories of run folders as one flat table (one row per episode) for
SFT and offline RL: the chat as ``messages`` (the arena's messages and the agent's replies in
order), the tools, rewards per turn and in total, reward components, and the token ids and loss
mask when the agent recorded them. Parquet and JSONL keep nested columns (Hugging Face
``datasets.load_dataset("parquet"|"json", ...)`` reads them as they are); CSV holds them as
JSON strings. ``hf`` writes a dataset folder (``data/train-*.parquet`` and a dataset card) that
``datasets.load_dataset(folder)`` opens as it is, and that can be pushed to the Hub unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arenas.config import ConfigError
from arenas.stats import latest_per_key
from arenas.trajectory import Trajectory, read_trajectories

FORMATS = ("parquet", "jsonl", "csv", "hf")
NESTED = ("messages", "step_rewards", "components", "token_ids", "loss_mask")


def _message(m: dict[str, Any]) -> dict[str, str]:
    """A chat message with a fixed set of string fields (a columnar file needs one struct type)."""
    calls = m.get("tool_calls")
    return {"role": str(m.get("role", "")), "content": str(m.get("content") or ""), "name": str(m.get("name") or ""),
            "tool_call_id": str(m.get("tool_call_id") or ""),
            "tool_calls": json.dumps(calls, ensure_ascii=False) if calls else ""}


def messages(t: Trajectory) -> list[dict[str, str]]:
    """The episode as a chat: each turn's observation messages, then the agent's reply."""
    out = []
    for turn in t.turns:
        out += [_message(m) for m in turn.observation]
        act = turn.action or {}
        out.append(_message({"role": "assistant", "content": act.get("text") or "",
                             "tool_calls": act.get("tool_calls") or None}))
    out += [_message(m) for m in t.final_observation]
    return out


def row(t: Trajectory, run_dir: str) -> dict[str, Any]:
    tokens = t.tokens or {}
    return {"arena": t.arena, "arena_version": t.arena_version, "task_id": t.task_id, "split": t.split,
            "seed": t.seed, "rollout": t.rollout, "agent": t.agent, "reward": float(t.reward if t.error is None else 0.0),
            "recorded_reward": float(t.reward), "success": bool(t.success and t.error is None),
            "termination": t.termination, "error": t.error or "", "invalid_actions": t.invalid_actions,
            "num_turns": len(t.turns), "messages": messages(t), "step_rewards": [float(x.reward) for x in t.turns],
            "components": {k: float(v) for k, v in ((t.breakdown or {}).get("components") or {}).items()
                           if isinstance(v, (int, float))},
            "token_ids": list(tokens.get("ids") or []), "loss_mask": list(tokens.get("mask") or []),
            "tokens": int(sum((t.token_counts or {}).values())), "run_dir": run_dir}


def table(runs: list[str | Path]):
    """A pandas DataFrame of every episode under the run folders (the latest record of each key)."""
    import pandas as pd

    from arenas.leaderboards.ingest import find_runs

    rows = []
    for run_dir in find_runs(runs):
        rows += [row(t, str(run_dir)) for t in latest_per_key(read_trajectories(run_dir / "episodes.jsonl"))]
    if not rows:
        raise ConfigError(f"no run folders (run.json + episodes.jsonl) under {', '.join(map(str, runs))}")
    return pd.DataFrame(rows)


def export(runs: list[str | Path], out: str | Path, fmt: str) -> int:
    """Writes the table to ``out`` in ``fmt``; returns the number of episodes."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    df = table(runs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("parquet", "hf"):
        try:
            import pyarrow  # noqa: F401
        except ImportError as e:
            raise ConfigError(f"{fmt} needs pyarrow ({e}); pip install pyarrow, or use --format jsonl") from e
    if fmt == "parquet":
        df.to_parquet(out, index=False)
    elif fmt == "hf":
        (out / "data").mkdir(parents=True, exist_ok=True)
        df.to_parquet(out / "data" / "train-00000-of-00001.parquet", index=False)
        (out / "README.md").write_text(dataset_card(df))
    elif fmt == "jsonl":
        df.to_json(out, orient="records", lines=True, force_ascii=False)
    else:
        flat = df.copy()
        for col in NESTED:
            flat[col] = flat[col].map(lambda v: json.dumps(v, ensure_ascii=False))
        flat.to_csv(out, index=False)
    return len(df)


def dataset_card(df) -> str:
    """A Hugging Face dataset card: the data files and what the columns mean."""
    arenas = ", ".join(sorted(set(df.arena)))
    agents = ", ".join(sorted(set(df.agent)))
    return f"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
---
# Episodes exported by `arenas export`

{len(df)} episodes of the arenas {arenas} played by {agents}. One row per episode: `messages` (the chat,
the arena's messages and the agent's replies in order), `step_rewards`, `reward` (errored
episodes count as 0; `recorded_reward` is the raw return), `components` (the final reward
breakdown), `token_ids` and `loss_mask` (1 = agent token) when the agent recorded them.
"""
