"""Hardware profiles and the op-time cost model, after XLA's memory-space-assignment cost analysis.

An op's time is ``overhead + max(compute, memory)``: compute is ``flops / flops_per_s``; memory
is the bytes of every buffer the op touches (reads, and the one it defines), each divided by
the bandwidth of the memory space that buffer lives in. A program's time is the sum over ops.
:class:`CostModel` keeps per-op byte counts so moving one buffer to fast memory updates only
the ops that touch it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from arenas.memory.workloads import Workload


@dataclass(frozen=True)
class Profile:
    """One accelerator's numbers (per chip, dense)."""

    name: str
    flops_per_s: float
    """Peak compute, FLOP/s."""
    slow_bw: float
    """Bandwidth of the large default memory (HBM), bytes/s."""
    fast_bw: float
    """Bandwidth of the small alternate memory (on-chip SRAM/CMEM), bytes/s."""
    fast_capacity: int
    """Physical size of the fast memory, bytes; a task's capacity never exceeds it."""
    op_overhead_s: float
    """Fixed cost per op (launch / issue), seconds."""
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "tpu": Profile("tpu", flops_per_s=275e12, slow_bw=1.2e12, fast_bw=9.6e12, fast_capacity=128 << 20,
                   op_overhead_s=0.2e-6,
                   description="TPU-v4-like: 275 TFLOP/s, 1.2 TB/s HBM, 128 MiB CMEM at 8x HBM bandwidth"),
    "gpu": Profile("gpu", flops_per_s=495e12, slow_bw=3.35e12, fast_bw=20e12, fast_capacity=50 << 20,
                   op_overhead_s=1.0e-6,
                   description="H100-like: 495 TFLOP/s (TF32 dense), 3.35 TB/s HBM, 50 MiB L2/SRAM at ~6x"),
}
"""The documented profiles (public spec-sheet numbers, rounded)."""


def touching_ops(workload: Workload) -> list[np.ndarray]:
    """For each buffer, the ops whose traffic includes it."""
    return [workload.touching_ops(b) for b in range(workload.n_buffers)]


class CostModel:
    """Incremental program time: every buffer starts in slow memory; :meth:`move_to_fast` moves one."""

    def __init__(self, workload: Workload, profile: Profile, touch: list[np.ndarray] | None = None):
        self.profile = profile
        self.size = workload.size.astype(np.float64)
        self.touch = touch if touch is not None else touching_ops(workload)
        self.compute = workload.op_flops / profile.flops_per_s
        slow = np.zeros(workload.n_ops)
        for b, ops in enumerate(self.touch):
            slow[ops] += self.size[b]
        self.slow_bytes = slow
        self.fast_bytes = np.zeros(workload.n_ops)
        self.op_time = self._times(slice(None))
        self.total = float(self.op_time.sum())
        self.all_slow = self.total

    def _times(self, idx: Any) -> np.ndarray:
        p = self.profile
        memory = self.slow_bytes[idx] / p.slow_bw + self.fast_bytes[idx] / p.fast_bw
        return p.op_overhead_s + np.maximum(self.compute[idx], memory)

    def benefit(self, b: int) -> float:
        """Seconds saved if buffer ``b`` moved to fast memory now."""
        idx = self.touch[b]
        p = self.profile
        s = self.size[b]
        memory = (self.slow_bytes[idx] - s) / p.slow_bw + (self.fast_bytes[idx] + s) / p.fast_bw
        after = p.op_overhead_s + np.maximum(self.compute[idx], memory)
        return float(self.op_time[idx].sum() - after.sum())

    def move_to_fast(self, b: int) -> float:
        """Moves buffer ``b`` to fast memory; returns the seconds saved."""
        idx = self.touch[b]
        self.slow_bytes[idx] -= self.size[b]
        self.fast_bytes[idx] += self.size[b]
        new = self._times(idx)
        saved = float(self.op_time[idx].sum() - new.sum())
        self.op_time[idx] = new
        self.total -= saved
        return saved

    def copy(self) -> CostModel:
        other = object.__new__(CostModel)
        other.__dict__.update(self.__dict__)
        other.slow_bytes = self.slow_bytes.copy()
        other.fast_bytes = self.fast_bytes.copy()
        other.op_time = self.op_time.copy()
        return other
