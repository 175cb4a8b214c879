"""Trajectories: everything about one episode, one JSON line each.

The file format is the interface between the rollout engine and its consumers (the trainer,
leaderboards, offline re-scoring), so it is plain JSON with a schema version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Turn:
    """One agent action and what the arena answered."""

    index: int
    observation: list[dict[str, Any]]
    """The messages the agent saw before acting (new ones only)."""
    action: dict[str, Any]
    """``Action.to_dict()``: raw text, parsed tool calls, structured action, agent meta."""
    reward: float
    info: dict[str, Any] = field(default_factory=dict)
    agent_s: float = 0.0
    env_s: float = 0.0


@dataclass
class Trajectory:
    arena: str
    arena_version: int
    task_id: str
    split: str
    seed: int
    rollout: int
    agent: str
    turns: list[Turn] = field(default_factory=list)
    final_observation: list[dict[str, Any]] = field(default_factory=list)
    reward: float = 0.0
    """The episode return: the sum of step rewards."""
    breakdown: dict[str, Any] | None = None
    success: bool = False
    termination: str = ""
    invalid_actions: int = 0
    token_counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    tokens: dict[str, Any] | None = None
    """LLM agents: ``{"ids", "mask", "logprobs"}`` of the whole episode (mask 1 = agent token)."""
    meta: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @property
    def key(self) -> str:
        return episode_key(self.task_id, self.seed, self.rollout)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=_json_default, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        d = dict(d)
        d["turns"] = [Turn(**t) for t in d.get("turns", [])]
        return cls(**d)


def episode_key(task_id: str, seed: int, rollout: int) -> str:
    return f"{task_id}|{seed}|{rollout}"


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return repr(o)


def read_trajectories(path: str | Path) -> Iterator[Trajectory]:
    """Reads an ``episodes.jsonl``; a torn last line (killed writer) is skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield Trajectory.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue


class TrajectoryWriter:
    """Appends trajectories to a JSONL file, flushed and fsynced one episode at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_torn_tail()
        self._f = open(self.path, "a", encoding="utf-8")

    def _repair_torn_tail(self) -> None:
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb+") as f:
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    f.write(b"\n")

    def write(self, traj: Trajectory) -> None:
        self._f.write(traj.to_json() + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()
