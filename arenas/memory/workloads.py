"""Workloads: the buffers and ops of one compiled model, loaded from the packaged JSON files.

A workload is what :mod:`arenas.memory.extract` wrote: per op its FLOPs and bytes moved, per
buffer its size, ``[start, end)`` live interval in op order, defining op (-1 for parameters and
inputs) and the ops that read it. Loading needs numpy only.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
"""Version of the stored data; part of every task id's meaning."""
WORKLOAD_DIR = Path(__file__).parent / "workloads"
KINDS = ("activation", "parameter", "input")


@dataclass(frozen=True, eq=False)
class Workload:
    """One program's ops and buffers as arrays (buffer ``i`` is row ``i`` of every buffer array)."""

    name: str
    model: str
    op_names: list[str]
    op_flops: np.ndarray
    """FLOPs of each op (float64)."""
    buffer_names: list[str]
    size: np.ndarray
    """Bytes of each buffer (int64)."""
    start: np.ndarray
    """First op at which the buffer is live."""
    end: np.ndarray
    """One past the last op at which the buffer is live."""
    kind: np.ndarray
    """Index into :data:`KINDS`."""
    def_op: np.ndarray
    uses: list[np.ndarray]
    """Ops that read each buffer (sorted, unique)."""
    raw: dict[str, Any]

    @property
    def n_ops(self) -> int:
        return len(self.op_flops)

    @property
    def n_buffers(self) -> int:
        return len(self.size)

    def touching_ops(self, b: int) -> np.ndarray:
        """The ops whose memory traffic includes buffer ``b`` (its defining op and its readers)."""
        d = self.def_op[b]
        return self.uses[b] if d < 0 else np.unique(np.append(self.uses[b], d))

    @functools.cached_property
    def peak_live_bytes(self) -> int:
        """The largest total size of buffers live at one op (what everything-fast would need)."""
        delta = np.zeros(self.n_ops + 1, dtype=np.int64)
        np.add.at(delta, self.start, self.size)
        np.add.at(delta, self.end, -self.size)
        return int(np.cumsum(delta).max())


def from_dict(raw: dict[str, Any]) -> Workload:
    """Builds a :class:`Workload` from the stored JSON structure."""
    if raw.get("format") != FORMAT_VERSION:
        raise ValueError(f"workload {raw.get('name')!r} has format {raw.get('format')}, expected {FORMAT_VERSION}")
    ops, bufs = raw["ops"], raw["buffers"]
    return Workload(
        name=raw["name"], model=raw["model"], op_names=list(ops["name"]),
        op_flops=np.asarray(ops["flops"], dtype=np.float64),
        buffer_names=list(bufs["name"]),
        size=np.asarray(bufs["size"], dtype=np.int64),
        start=np.asarray(bufs["start"], dtype=np.int64),
        end=np.asarray(bufs["end"], dtype=np.int64),
        kind=np.asarray([KINDS.index(k) for k in bufs["kind"]], dtype=np.int64),
        def_op=np.asarray(bufs["def_op"], dtype=np.int64),
        uses=[np.asarray(u, dtype=np.int64) for u in bufs["uses"]],
        raw=raw,
    )


def names() -> list[str]:
    """Names of the packaged workloads, smallest first."""
    found = [p.name.removesuffix(".json.gz") for p in WORKLOAD_DIR.glob("*.json.gz")]
    return sorted(found, key=lambda n: (WORKLOAD_DIR / f"{n}.json.gz").stat().st_size)


@functools.cache
def load(name: str) -> Workload:
    """The packaged workload ``name`` (cached)."""
    path = WORKLOAD_DIR / f"{name}.json.gz"
    if not path.exists():
        raise KeyError(f"unknown workload {name!r}; packaged: {', '.join(names())}")
    return from_dict(json.loads(gzip.decompress(path.read_bytes())))
