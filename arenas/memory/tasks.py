"""Tasks: workload x hardware profile x fast-memory capacity, split by workload.

A task's capacity is a fraction of the workload's peak live bytes (what keeping everything in
fast memory would need), capped by the profile's physical fast memory. Splitting by workload
means test tasks come from model graphs never seen in training.
"""

from __future__ import annotations

from collections.abc import Sequence

from arenas.memory import workloads
from arenas.memory.cost import PROFILES
from arenas.types import Task

SPLITS: dict[str, tuple[str, ...]] = {
    "dev": ("bert_small", "mlp_deep"),
    "test": ("gpt_medium", "resnet34", "unet"),
}
"""Workloads held out of training; every other packaged workload is in ``train``."""
CAPACITY_FRACTIONS: dict[str, float] = {"tight": 0.05, "medium": 0.10, "loose": 0.25}


def split_workloads(split: str) -> list[str]:
    """Packaged workloads of ``split``, smallest first."""
    held_out = {w for names in SPLITS.values() for w in names}
    if split == "train":
        return [w for w in workloads.names() if w not in held_out]
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use train, dev or test")
    return [w for w in workloads.names() if w in SPLITS[split]]


def capacity_bytes(workload: str, profile: str, fraction: float) -> int:
    wl = workloads.load(workload)
    return min(int(fraction * wl.peak_live_bytes), PROFILES[profile].fast_capacity)


def make_tasks(split: str, names: Sequence[str] | None = None, profiles: Sequence[str] = tuple(PROFILES),
               capacities: Sequence[str] = tuple(CAPACITY_FRACTIONS)) -> list[Task]:
    """The tasks of ``split`` (or of the workloads ``names`` when given, in every split)."""
    tasks = []
    for name in names or split_workloads(split):
        wl = workloads.load(name)
        for profile in profiles:
            for tier in capacities:
                cap = capacity_bytes(name, profile, CAPACITY_FRACTIONS[tier])
                tasks.append(Task(
                    id=f"{name}/{profile}/{tier}", split=split,
                    prompt={"workload": name, "profile": profile, "capacity_tier": tier,
                            "capacity_fraction": CAPACITY_FRACTIONS[tier], "capacity_bytes": cap},
                    meta={"model": wl.model, "n_buffers": wl.n_buffers, "n_ops": wl.n_ops,
                          "peak_live_bytes": wl.peak_live_bytes}))
    return tasks
