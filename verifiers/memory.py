"""Memory mapping (mallocGame): replays an action log from scratch and scores the modeled speed-up.

Nothing here shares code with the arena's incremental bookkeeping: the arrival order is rebuilt
from its documented rule, legality is checked pairwise (two fast buffers conflict when their live
intervals and address ranges both intersect), and the program time is summed over all ops anew.

``problem`` (in ``context["problem"]``) is plain data: per buffer ``size``, ``start``, ``end``,
``def_op``, ``uses``; per op ``op_flops``; ``capacity``, ``alignment`` and the ``profile``
numbers (``flops_per_s``, ``slow_bw``, ``fast_bw``, ``op_overhead_s``). A log has one request per
arriving buffer: an offset (fast memory), -1 (slow) or -2 (an action that could not be read).
Illegal and unreadable requests count as invalid and leave the buffer in slow memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from arenas.verifiers.base import Verdict

SLOW, MALFORMED = -1, -2


def arrival_order(problem: Mapping[str, Any]) -> list[int]:
    """Buffers by live-interval start, larger first on ties, then by id."""
    size, start = problem["size"], problem["start"]
    return sorted(range(len(size)), key=lambda b: (start[b], -size[b], b))


def replay(problem: Mapping[str, Any], requests: Sequence[Any]) -> dict[str, Any]:
    """Applies ``requests`` to an empty fast memory; returns offsets, invalid count and time."""
    align, capacity = int(problem["alignment"]), int(problem["capacity"])
    size, start, end = problem["size"], problem["start"], problem["end"]
    order = arrival_order(problem)
    offsets: dict[int, int] = {}
    rects = np.empty((0, 4), dtype=np.int64)  # t0, t1, a0, a1 of accepted fast buffers
    invalid = max(0, len(requests) - len(order))
    for k, b in enumerate(order):
        r = requests[k] if k < len(requests) else SLOW
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)):
            invalid += 1
            continue
        r = int(r)
        if r == SLOW:
            continue
        foot = -(-int(size[b]) // align) * align
        if r < 0 or r % align or r + foot > capacity:
            invalid += 1
            continue
        clash = (rects[:, 0] < end[b]) & (rects[:, 1] > start[b]) & (rects[:, 2] < r + foot) & (rects[:, 3] > r)
        if clash.any():
            invalid += 1
            continue
        rects = np.vstack([rects, [start[b], end[b], r, r + foot]])
        offsets[b] = r
    return {"offsets": offsets, "invalid": invalid, "time": program_time(problem, set(offsets)),
            "fast_bytes": int(sum(size[b] for b in offsets))}


def program_time(problem: Mapping[str, Any], fast: set[int]) -> float:
    """Seconds for the whole program when the buffers in ``fast`` live in fast memory."""
    p = problem["profile"]
    flops = np.asarray(problem["op_flops"], dtype=np.float64)
    slow_bytes = np.zeros(len(flops))
    fast_bytes = np.zeros(len(flops))
    for b, s in enumerate(problem["size"]):
        ops = set(problem["uses"][b])
        if problem["def_op"][b] >= 0:
            ops.add(problem["def_op"][b])
        target = fast_bytes if b in fast else slow_bytes
        for op in ops:
            target[op] += s
    memory = slow_bytes / p["slow_bw"] + fast_bytes / p["fast_bw"]
    return float(np.sum(p["op_overhead_s"] + np.maximum(flops / p["flops_per_s"], memory)))


def _requests(candidate: Any) -> Sequence[Any]:
    return candidate["requests"] if isinstance(candidate, Mapping) else candidate


def speedup(candidate: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """``T_baseline / T_agent - 1``, both times recomputed from their logs (the baseline's log is
    ``reference["baseline_requests"]``). Passed when the agent is at least as fast."""
    problem = context["problem"]
    agent = replay(problem, _requests(candidate))
    base = replay(problem, reference["baseline_requests"])
    if base["invalid"]:
        return Verdict.fail("the baseline log is illegal", baseline_invalid=base["invalid"])
    score = base["time"] / agent["time"] - 1.0
    return Verdict(score, agent["time"] <= base["time"] * (1 + 1e-9), {
        "t_agent": agent["time"], "t_baseline": base["time"], "t_all_slow": program_time(problem, set()),
        "fast_buffers": len(agent["offsets"]), "fast_bytes": agent["fast_bytes"], "invalid": agent["invalid"]})


def invalid_actions(candidate: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """Minus the number of illegal or unreadable requests (weight it by the per-action penalty)."""
    n = replay(context["problem"], _requests(candidate))["invalid"]
    return Verdict(-float(n), n == 0, {"invalid": n})
