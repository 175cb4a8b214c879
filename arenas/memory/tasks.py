"""Tasks: workload x hardware profile x fast-memory capacity, with three held-out splits.

A task's capacity is a fraction of the workload's peak live bytes (what keeping everything in
fast memory would need), capped by the profile's physical fast memory. ``split_by`` chooses what
the dev and test splits hold out of training:

* ``workload`` - model graphs never seen in training (:data:`SPLITS`);
* ``family`` - whole model families (:data:`FAMILY_SPLITS`: train on transformers, MLPs and RNNs,
  test on convolutional and mixer networks);
* ``capacity`` - the tight capacity: train sees only medium and loose tasks (of every workload),
  dev and test the tight tasks of the dev and of all other workloads.

An explicit workload list narrows a split, never widens it: a listed workload outside the split
contributes no task there, so a trainer's dev evaluation cannot reuse training tasks.
"""

from __future__ import annotations

from collections.abc import Sequence

from arenas.memory import workloads
from arenas.memory.cost import PROFILES
from arenas.types import Task

SPLITS: dict[str, tuple[str, ...]] = {
    "dev": ("bert_small", "mlp_deep", "vit_tiny", "lstm_small"),
    "test": ("gpt_medium", "resnet34", "unet", "t5_base", "mobilenet_v2", "moe_base"),
}
"""Workloads held out of training; every other packaged workload is in ``train``."""
FAMILY_SPLITS: dict[str, tuple[str, ...]] = {
    "dev": ("vit",),
    "test": ("resnet", "unet", "mixer", "mobilenet", "diffusion"),
}
"""Model families held out of training by ``split_by="family"``."""
CAPACITY_FRACTIONS: dict[str, float] = {"tight": 0.05, "medium": 0.10, "loose": 0.25}
HELD_OUT_TIER = "tight"
"""The capacity tier held out of training by ``split_by="capacity"``."""
SPLIT_MODES = ("workload", "family", "capacity")


FAMILIES = ("gpt", "bert", "mlp", "lstm", "t5", "moe", "vit", "resnet", "unet", "mixer", "mobilenet", "diffusion")


def family(workload: str) -> str:
    """The model family of a workload: the family its name starts with (``resnet18`` -> ``resnet``)."""
    return next((f for f in FAMILIES if workload.startswith(f)), workload.split("_")[0])


def _held_out(split: str, names: list[str], mode: str) -> list[str]:
    if mode == "family":
        table = FAMILY_SPLITS
        held = {f for fs in table.values() for f in fs}
        key = family
    else:
        table = SPLITS
        held = {w for ws in table.values() for w in ws}
        key = str
    if split == "train":
        return [w for w in names if key(w) not in held]
    if split not in table:
        raise ValueError(f"unknown split {split!r}; use train, dev or test")
    return [w for w in names if key(w) in table[split]]


def split_workloads(split: str, mode: str = "workload") -> list[str]:
    """Packaged workloads with tasks in ``split`` under ``mode``, smallest first."""
    if mode not in SPLIT_MODES:
        raise ValueError(f"unknown split_by {mode!r}; use {', '.join(SPLIT_MODES)}")
    names = workloads.names()
    if mode != "capacity" or split == "train":
        return names if mode == "capacity" else _held_out(split, names, mode)
    dev = _held_out("dev", names, "workload")
    return dev if split == "dev" else [w for w in names if w not in dev]


def split_tiers(split: str, mode: str, tiers: Sequence[str]) -> list[str]:
    """The capacity tiers of ``tiers`` that ``split`` has under ``mode``."""
    if mode != "capacity":
        return list(tiers)
    return [t for t in tiers if (t == HELD_OUT_TIER) != (split == "train")]


def capacity_bytes(workload: str, profile: str, fraction: float) -> int:
    wl = workloads.load(workload)
    return min(int(fraction * wl.peak_live_bytes), PROFILES[profile].fast_capacity)


def make_tasks(split: str, names: Sequence[str] | None = None, profiles: Sequence[str] = tuple(PROFILES),
               capacities: Sequence[str] = tuple(CAPACITY_FRACTIONS), mode: str = "workload") -> list[Task]:
    """The tasks of ``split`` (only those of the workloads ``names`` when given)."""
    chosen = split_workloads(split, mode)
    if names:
        unknown = set(names) - set(workloads.names())
        if unknown:
            raise KeyError(f"unknown workload(s) {', '.join(sorted(unknown))}; packaged: "
                           f"{', '.join(workloads.names())}")
        chosen = [w for w in chosen if w in set(names)]
    tasks = []
    for name in chosen:
        wl = workloads.load(name)
        for profile in profiles:
            for tier in split_tiers(split, mode, capacities):
                cap = capacity_bytes(name, profile, CAPACITY_FRACTIONS[tier])
                tasks.append(Task(
                    id=f"{name}/{profile}/{tier}", split=split,
                    prompt={"workload": name, "profile": profile, "capacity_tier": tier,
                            "capacity_fraction": CAPACITY_FRACTIONS[tier], "capacity_bytes": cap},
                    meta={"model": wl.model, "family": family(name), "n_buffers": wl.n_buffers,
                          "n_ops": wl.n_ops, "peak_live_bytes": wl.peak_live_bytes}))
    return tasks
