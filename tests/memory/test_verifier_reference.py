"""The memory verifier's rules at their edges, on problems small enough to work out by hand:
arrival order ties, half-open live intervals and address ranges, alignment and capacity, the
roofline time per op (each buffer counted once per op it touches, inputs have no defining op)."""

import numpy as np
import pytest

from arenas.verifiers import memory as verifier


def _grid(**over):
    """Alignment 4, capacity 16. Arrival order: b0 (t 0), b2 (t 1), b1 (t 2).

    b0: 8 bytes, live [0, 2); b1: 8 bytes, live [2, 4) (touches b0 in time); b2: 4 bytes, live [1, 3)."""
    base = {"size": [8, 8, 4], "start": [0, 2, 1], "end": [2, 4, 3], "def_op": [0, 2, 1], "uses": [[1], [3], [2]],
            "op_flops": [0.0] * 4, "capacity": 16, "alignment": 4,
            "profile": {"flops_per_s": 1.0, "slow_bw": 1.0, "fast_bw": 2.0, "op_overhead_s": 0.0}}
    return base | over


# b0: 400 bytes, an input (no defining op) read twice by op 0 and once by op 1; b1: 300 bytes
# defined by op 0 and read by op 1. Both live over the whole program.
PROFILE = {"flops_per_s": 1e3, "slow_bw": 100.0, "fast_bw": 1000.0, "op_overhead_s": 0.5}
TWO_OPS = {"size": [400, 300], "start": [0, 0], "end": [2, 2], "def_op": [-1, 0], "uses": [[0, 0, 1], [1]],
           "op_flops": [2e3, 0.0], "capacity": 1024, "alignment": 1, "profile": PROFILE}
# all slow: op 0 moves 700 B at 100 B/s = 7 s (> 2 s of compute), op 1 also 7 s; + 2 x 0.5 s overhead
T_SLOW = 15.0
# b0 fast: each op moves 300 B slow (3 s) + 400 B fast (0.4 s) = 3.4 s
T_B0_FAST = 1.0 + 3.4 + 3.4
# both fast: op 0 is compute bound (2 s > 0.7 s), op 1 moves 700 B fast = 0.7 s
T_ALL_FAST = 1.0 + 2.0 + 0.7


def test_arrival_order_is_start_then_larger_first_then_id():
    p = {"size": [5, 10, 10, 7, 10], "start": [1, 1, 1, 0, 1]}
    assert verifier.arrival_order(p) == [3, 1, 2, 4, 0]


def test_program_time_by_hand():
    assert verifier.program_time(TWO_OPS, set()) == pytest.approx(T_SLOW, abs=1e-12)
    assert verifier.program_time(TWO_OPS, {0}) == pytest.approx(T_B0_FAST, abs=1e-12)
    assert verifier.program_time(TWO_OPS, {0, 1}) == pytest.approx(T_ALL_FAST, abs=1e-12)
    # b1 fast only: op 0 moves 400 B slow (4 s) + 300 B fast (0.3 s), op 1 the same
    assert verifier.program_time(TWO_OPS, {1}) == pytest.approx(1.0 + 4.3 + 4.3, abs=1e-12)


def test_a_buffer_defined_and_used_by_the_same_op_is_moved_once():
    p = TWO_OPS | {"def_op": [-1, 1]}  # b1 now defined and read by op 1
    # op 0: only b0 (400 B, 4 s > 2 s compute); op 1: b0 + b1 = 700 B, 7 s
    assert verifier.program_time(p, set()) == pytest.approx(1.0 + 4.0 + 7.0, abs=1e-12)


def test_time_is_bounded_below_by_compute_per_op():
    p = TWO_OPS | {"op_flops": [1e5, 1e5]}  # 100 s of compute per op dominates any traffic
    assert verifier.program_time(p, set()) == pytest.approx(201.0, abs=1e-9)


def test_legal_packing_with_touching_intervals_and_addresses():
    # b1 reuses b0's addresses ([2, 4) starts when [0, 2) ends); b2 sits right after b0 ([8, 12))
    # and b1 sits right before b2's addresses
    out = verifier.replay(_grid(), [0, 8, 0])
    assert out["invalid"] == 0 and out["offsets"] == {0: 0, 2: 8, 1: 0}
    assert out["fast_bytes"] == 20
    out = verifier.replay(_grid(), [8, 4, 8])
    assert out["invalid"] == 0 and out["offsets"] == {0: 8, 2: 4, 1: 8}


@pytest.mark.parametrize("requests, accepted", [
    ([0, 4, -1], {0: 0}),       # b2 [4, 8) inside b0 [0, 8) while both live
    ([0, 0, -1], {0: 0}),       # same address
    ([4, 8, -1], {0: 4}),       # b2 [8, 12) is the top of b0 [4, 12) while both live
    ([0, 8, 4], {0: 0, 2: 8}),  # b1 [4, 12) overlaps b2 [8, 12) in time [2, 3)
    ([-1, 0, 0], {2: 0}),       # b1 [0, 8) over b2 [0, 4) in time [2, 3)
    ([0, 4, 8], {0: 0, 1: 8}),  # a rejected request does not stop the replay
])
def test_overlap_in_both_time_and_address_is_illegal(requests, accepted):
    out = verifier.replay(_grid(), requests)
    assert out["offsets"] == accepted
    assert out["invalid"] == 3 - len(accepted) - sum(r == -1 for r in requests)


@pytest.mark.parametrize("offset, ok", [(12, True), (16, False), (13, False), (2, False), (-4, False), (-2, False)])
def test_alignment_capacity_and_negative_offsets(offset, ok):
    out = verifier.replay(_grid(), [-1, offset, -1])
    assert out["invalid"] == (0 if ok else 1)
    assert out["offsets"] == ({2: offset} if ok else {})


def test_footprint_is_the_size_rounded_up_to_the_alignment():
    # a 5-byte buffer takes 8 bytes at alignment 4: at 12 it would end at 20 > 16
    p = _grid(size=[8, 8, 5])
    assert verifier.replay(p, [-1, 12, -1])["invalid"] == 1
    assert verifier.replay(p, [-1, 8, -1])["offsets"] == {2: 8}
    # and b0 (8 bytes at 0) ends exactly where b2 may start
    assert verifier.replay(p, [0, 8, -1])["invalid"] == 0


def test_an_unaligned_capacity_holds_only_whole_aligned_footprints():
    p = _grid(capacity=18)  # usable 16
    assert verifier.replay(p, [-1, 12, -1])["invalid"] == 0
    assert verifier.replay(p, [-1, 16, -1])["invalid"] == 1
    odd = _grid(capacity=18, size=[8, 8, 5])  # 5 bytes at 12 would end at 17 <= 18, but take 8
    assert verifier.replay(odd, [-1, 12, -1])["invalid"] == 1



def test_numpy_integers_count_and_numpy_bools_do_not():
    assert verifier.replay(_grid(), [np.int64(0), np.int32(8), -1])["offsets"] == {0: 0, 2: 8}
    out = verifier.replay(_grid(), [np.bool_(False), False, None])
    assert out["invalid"] == 3 and out["offsets"] == {}


def test_extra_requests_are_each_invalid_and_missing_ones_slow():
    assert verifier.replay(_grid(), [0, 8, 0, 0, 4])["invalid"] == 2
    assert verifier.replay(_grid(), [0, 4, -1, 7])["invalid"] == 2  # one extra, one clash
    out = verifier.replay(_grid(), [0])
    assert out["invalid"] == 0 and out["offsets"] == {0: 0}
    assert verifier.replay(_grid(), [])["invalid"] == 0


def test_replay_time_and_fast_bytes_count_only_accepted_buffers():
    out = verifier.replay(TWO_OPS, [0, 200])  # b1 [200, 500) overlaps b0 [0, 400): rejected
    assert out["offsets"] == {0: 0} and out["invalid"] == 1
    assert out["time"] == pytest.approx(T_B0_FAST, abs=1e-12) and out["fast_bytes"] == 400


def test_speedup_by_hand():
    ctx = {"problem": TWO_OPS}
    ref = {"baseline_requests": [0, -1]}
    v = verifier.speedup({"requests": [0, 400]}, ref, ctx)
    assert v.score == pytest.approx(T_B0_FAST / T_ALL_FAST - 1, abs=1e-12) and v.passed
    assert v.details == pytest.approx({"t_agent": T_ALL_FAST, "t_baseline": T_B0_FAST, "t_all_slow": T_SLOW,
                                       "fast_buffers": 2, "fast_bytes": 700, "invalid": 0})
    slower = verifier.speedup([-1, -1], ref, ctx)
    assert slower.score == pytest.approx(T_B0_FAST / T_SLOW - 1, abs=1e-12) and not slower.passed


def test_matching_the_baseline_passes_with_score_zero():
    v = verifier.speedup([0, -1], {"baseline_requests": [0, -1]}, {"problem": TWO_OPS})
    assert v.score == 0.0 and v.passed


def test_an_illegal_baseline_fails_the_episode():
    v = verifier.speedup([0, 400], {"baseline_requests": [0, 0]}, {"problem": TWO_OPS})
    assert v.score == 0.0 and not v.passed
    assert v.details == {"reason": "the baseline log is illegal", "baseline_invalid": 1}


def test_invalid_actions_is_minus_the_count():
    ctx = {"problem": _grid()}
    v = verifier.invalid_actions({"requests": [2, 3, 16, 1]}, {}, ctx)
    assert v.score == -4.0 and not v.passed and v.details == {"invalid": 4}
    clean = verifier.invalid_actions([0, 8, 0], {}, ctx)
    assert clean.score == 0.0 and clean.passed and clean.details == {"invalid": 0}
