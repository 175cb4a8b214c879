"""Game state: legal offsets against a brute-force occupancy grid, incremental cost against a
from-scratch recomputation."""

import numpy as np
import pytest

from arenas.memory import workloads
from arenas.memory.cost import PROFILES, CostModel
from arenas.memory.game import MALFORMED, SLOW, Game, buffer_order
from arenas.verifiers import memory as verifier


def _game(name="gpt_tiny", fraction=0.25, profile="tpu"):
    wl = workloads.load(name)
    return Game(wl, PROFILES[profile], int(fraction * wl.peak_live_bytes))


def test_arrival_order_follows_the_documented_rule():
    wl = workloads.load("unet_small")
    order = buffer_order(wl)
    keys = [(wl.start[b], -wl.size[b], b) for b in order]
    assert keys == sorted(keys)
    problem = {"size": wl.raw["buffers"]["size"], "start": wl.raw["buffers"]["start"]}
    assert verifier.arrival_order(problem) == order.tolist()


@pytest.mark.parametrize("name", ["gpt_tiny", "unet_small"])
def test_legal_offsets_match_a_brute_force_grid(name):
    g = _game(name, 0.3)
    rng = np.random.default_rng(0)
    units = g.capacity // g.alignment
    grid = np.zeros((g.workload.n_ops, units), dtype=bool)  # time x address, True = taken
    while not g.done:
        b = g.current
        s, e, need = g.workload.start[b], g.workload.end[b], g.footprint[b] // g.alignment
        free = ~grid[s:e].any(0)
        window = np.convolve(free, np.ones(need, dtype=int), "valid") == need if need <= units else np.zeros(0)
        brute = set((np.flatnonzero(window) * g.alignment).tolist())
        gaps = g.gaps(b)
        # every offered offset is legal, and every legal offset lies in an offered gap
        assert set(gaps.start.tolist()) <= brute
        for o in rng.choice(sorted(brute), min(len(brute), 5), replace=False) if brute else []:
            assert g.is_legal(b, int(o))
        assert not g.is_legal(b, g.alignment // 2)
        for o in rng.integers(0, units, 5) * g.alignment:
            assert g.is_legal(b, int(o)) == (int(o) in brute)
        choice = rng.integers(len(gaps) + 1)
        if choice:
            off = int(gaps.start[choice - 1])
            grid[s:e, off // g.alignment: off // g.alignment + need] = True
            assert g.place(off)[0]
        else:
            g.place(SLOW)


def test_incremental_cost_matches_a_full_recomputation():
    g = _game("resnet18", 0.25, "gpu")
    problem = {"size": g.workload.raw["buffers"]["size"], "def_op": g.workload.raw["buffers"]["def_op"],
               "uses": g.workload.raw["buffers"]["uses"], "op_flops": g.workload.raw["ops"]["flops"],
               "profile": g.profile.to_dict()}
    assert g.cost.total == pytest.approx(verifier.program_time(problem, set()), rel=1e-12)
    while not g.done:
        gaps = g.gaps(g.current)
        before = g.cost.total
        benefit = g.cost.benefit(g.current)
        valid, saved = g.place(int(gaps.start[0]) if len(gaps) else SLOW)
        assert valid and saved == pytest.approx(benefit if len(gaps) else 0.0, rel=1e-9, abs=1e-18)
        assert g.cost.total == pytest.approx(before - saved, rel=1e-12)
    fast = {b for b in range(g.workload.n_buffers) if g.offset[b] >= 0}
    assert len(fast) > 10
    assert g.cost.total == pytest.approx(verifier.program_time(problem, fast), rel=1e-9)
    assert g.cost.total < g.cost.all_slow


def test_illegal_and_malformed_requests_leave_the_buffer_slow():
    g = _game()
    b = g.current
    assert g.place(MALFORMED) == (False, 0.0)
    assert g.place(g.capacity + g.alignment) == (False, 0.0)
    assert g.place(1) == (False, 0.0)  # unaligned
    assert g.invalid == 3 and g.n_fast == 0 and g.offset[b] == SLOW
    assert g.requests == [MALFORMED, g.capacity + g.alignment, 1]


def test_copy_is_independent():
    g = _game()
    c = g.copy()
    c.put(c.current, 0)
    assert g.n_fast == 0 and g.cost.total == g.cost.all_slow and c.cost.total < g.cost.total
    assert isinstance(c.cost, CostModel) and c.cost.slow_bytes is not g.cost.slow_bytes
