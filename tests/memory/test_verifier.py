"""The memory verifier on hand-made problems, with no arena involved."""

import pytest

from arenas.verifiers import memory as verifier

PROFILE = {"flops_per_s": 1e12, "slow_bw": 1e9, "fast_bw": 1e10, "op_overhead_s": 0.0}


def _problem(**over):
    # three buffers: 0 lives over ops [0,2), 1 over [1,3), 2 over [2,3); op flops tiny (memory bound)
    base = {"size": [1000, 1000, 500], "start": [0, 1, 2], "end": [2, 3, 3], "def_op": [0, 1, 2],
            "uses": [[1], [2], []], "op_flops": [1.0, 1.0, 1.0], "capacity": 2048, "alignment": 256,
            "profile": PROFILE}
    return base | over


def test_time_is_max_of_compute_and_memory_per_op():
    p = _problem()
    # op0 touches b0; op1 touches b0, b1; op2 touches b1, b2 (all slow)
    assert verifier.program_time(p, set()) == pytest.approx((1000 + 2000 + 1500) / 1e9)
    assert verifier.program_time(p, {0}) == pytest.approx(1000 / 1e10 + (1000 / 1e10 + 1000 / 1e9) + 1500 / 1e9)
    compute_bound = _problem(op_flops=[1e12, 1e12, 1e12])
    assert verifier.program_time(compute_bound, {0, 1, 2}) == pytest.approx(3.0)


def test_overlap_in_time_and_address_is_illegal():
    p = _problem()
    # b0 and b1 overlap in time: the same addresses conflict, disjoint ones do not
    assert verifier.replay(p, [0, 0, -1])["invalid"] == 1
    ok = verifier.replay(p, [0, 1024, -1])
    assert ok["invalid"] == 0 and ok["offsets"] == {0: 0, 1: 1024}
    # b0 and b2 do not overlap in time, so they may share addresses
    assert verifier.replay(p, [0, 1024, 0])["offsets"] == {0: 0, 1: 1024, 2: 0}


@pytest.mark.parametrize("bad", [128, 2048, -256, -2, "fast@0", 1.0, True])
def test_unaligned_out_of_capacity_and_unreadable_requests_are_invalid(bad):
    result = verifier.replay(_problem(), [bad, -1, -1])
    assert result["invalid"] == 1 and result["offsets"] == {}


def test_short_logs_leave_the_rest_slow_and_long_logs_are_invalid():
    p = _problem()
    assert verifier.replay(p, [0])["invalid"] == 0
    assert verifier.replay(p, [-1, -1, -1, 0])["invalid"] == 1


def test_speedup_and_penalty_components():
    p = _problem()
    ctx = {"problem": p}
    ref = {"baseline_requests": [0, -1, -1]}
    better = verifier.speedup({"requests": [0, 1024, 0]}, ref, ctx)
    assert better.score > 0 and better.passed
    assert better.details["t_baseline"] / better.details["t_agent"] - 1 == pytest.approx(better.score)
    worse = verifier.speedup([-1, -1, -1], ref, ctx)
    assert worse.score < 0 and not worse.passed
    assert verifier.invalid_actions([0, 0, 9], ref, ctx).score == -2
    assert not verifier.speedup([0, -1, -1], {"baseline_requests": [0, 0, -1]}, ctx).passed
