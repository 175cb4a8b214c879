"""Trajectories: everything about one episode, one JSON line each.

The file format is the interface between the rollout engine and its consumers (the trainer,
leaderboards, offline re-scoring), so it is plain JSON with a schema version.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arenas.types import decode, encode

SCHEMA_VERSION = 2
"""2: values JSON cannot hold (NaN, infinities, arrays, bytes) are tagged objects (:func:`arenas.types.encode`)."""
MAX_LINE_BYTES = 32 * 2**20
"""A trajectory line longer than this is shrunk: observation and action texts are cut (and
``meta["shrunk"]`` says so), so a model that ignores its token budget cannot fill the disk."""
KEEP_CHARS = 4096

log = logging.getLogger(__name__)


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
    tools: list[dict[str, Any]] = field(default_factory=list)
    """The tool schemas the agent was given (OpenAI function format), so SFT data and replays
    see the episode as the agent did."""
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
        """One JSON line; never raises on the values inside (they are encoded), and a line over
        :data:`MAX_LINE_BYTES` is shrunk."""
        line = _json_line(asdict(self))
        if len(line.encode()) > MAX_LINE_BYTES:
            line = _json_line(_shrunk(asdict(self)))
        return line

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        d = decode(dict(d))
        d["turns"] = [Turn(**t) for t in d.get("turns", [])]
        return cls(**d)


def episode_key(task_id: str, seed: int, rollout: int) -> str:
    return f"{task_id}|{seed}|{rollout}"


def _json_line(d: dict[str, Any]) -> str:
    """Strict JSON (:func:`encode` leaves no NaN or infinity) with the texts unescaped, except a
    line holding a lone surrogate (not encodable as UTF-8), which is written fully escaped."""
    line = json.dumps(encode(d), ensure_ascii=False)
    try:
        line.encode()
    except UnicodeEncodeError:
        return json.dumps(encode(d))
    return line


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > KEEP_CHARS:
        return value[:KEEP_CHARS] + f"... [{len(value) - KEEP_CHARS:,} characters cut]"
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return value


def _shrunk(d: dict[str, Any]) -> dict[str, Any]:
    """The record with long texts cut and token lists dropped (the episode's numbers stay)."""
    d = dict(d)
    d["turns"] = [{**t, "observation": _cut(t["observation"]), "action": _cut(t["action"]), "info": _cut(t["info"])}
                  for t in d["turns"]]
    d["final_observation"] = _cut(d["final_observation"])
    d["tokens"] = None
    d["meta"] = {**_cut(d["meta"]), "shrunk": True}
    return d


def read_trajectories(path: str | Path) -> Iterator[Trajectory]:
    """Reads an ``episodes.jsonl``; a torn last line (killed writer, possibly cut inside a UTF-8
    character) is skipped (a writer that resumes the file cuts it off)."""
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield Trajectory.from_dict(json.loads(line))
            except (ValueError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                continue


class RunLockedError(RuntimeError):
    """Another process is writing the same run folder."""


class TrajectoryWriter:
    """Appends trajectories to a JSONL file, flushed one episode at a time (a killed process
    loses nothing written; the OS may still hold the last lines if the machine itself fails).

    The file is locked (advisory ``flock`` on ``<file>.lock``) for as long as the writer is open:
    a second writer on the same file is refused instead of duplicating every episode. A torn last
    line left by a killed writer is cut off when the file is opened again."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path.with_name(self.path.name + ".lock"), "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RunLockedError(f"{self.path} is being written by another run (lock held on "
                                 f"{self._lock.name}); wait for it or choose another --out") from None
        self.torn_bytes = self._cut_torn_tail()
        self._f = open(self.path, "ab")

    def _cut_torn_tail(self) -> int:
        """Truncates an unfinished last line; returns how many bytes were cut."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if not size:  # an empty file cannot be mapped
                return 0
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                keep = m.rfind(b"\n") + 1  # searched from the end: only the torn tail is scanned
            if keep < size:
                f.truncate(keep)
                log.warning("%s: cut a torn last line of %d bytes left by an interrupted run", self.path, size - keep)
            return size - keep

    def write(self, traj: Trajectory) -> None:
        self._f.write((traj.to_json() + "\n").encode())
        self._f.flush()

    def close(self) -> None:
        self._f.close()
        self._lock.close()
