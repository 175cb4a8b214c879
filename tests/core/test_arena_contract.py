import numpy as np
import pytest

from arenas.types import Action
from tests.core.guess_arena import GuessArena


def call(n):
    return f'<tool_call>{{"name": "guess", "arguments": {{"number": {n}}}}}</tool_call>'


def test_binary_search_episode_and_breakdown():
    arena = GuessArena(max_turns=10)
    task = arena.tasks("test")[5]
    arena.reset(task=task, seed=0)
    lo, hi = 0, 15
    while True:
        mid = (lo + hi) // 2
        r = arena.step(call(mid))
        if r.done:
            break
        hint = r.observation.messages[0]["content"]
        lo, hi = (mid + 1, hi) if hint == "higher" else (lo, mid - 1)
    assert r.terminated and not r.truncated
    bd = r.info["reward_breakdown"]
    assert bd["passed"] and bd["components"]["exact"] == 1.0
    assert r.reward == pytest.approx(1.0 + 0.1 / arena.turn)
    assert r.info["termination"] == "submitted"


@pytest.mark.parametrize("bad", ["no tools here", "<tool_call>{oops</tool_call>",
                                 '<tool_call>{"name": "nope", "arguments": {}}</tool_call>',
                                 '<tool_call>{"name": "guess", "arguments": {"number": "x"}}</tool_call>',
                                 '<tool_call>{"name": "guess", "arguments": {}}</tool_call>', "", None, {"weird": 1}, 3.5])
def test_malformed_actions_are_feedback_not_crashes(bad):
    arena = GuessArena(max_turns=3)
    arena.reset(seed=1)
    r = arena.step(bad if bad is not None else Action())
    assert r.info["invalid_action"] and not r.done
    assert any("Invalid action" in m["content"] for m in r.observation.messages)
    assert arena.invalid_actions == 1


def test_tool_error_is_feedback_but_not_invalid():
    arena = GuessArena()
    arena.reset(seed=0)
    r = arena.step(call(99))
    assert not r.info["invalid_action"] and r.observation.messages[0]["content"] == "error: number out of range"


def test_turn_cap_truncates_and_step_after_done_raises():
    arena = GuessArena(max_turns=2)
    arena.reset(seed=0)
    arena.step("x")
    r = arena.step("x")
    assert r.truncated and r.info["termination"] == "max_turns"
    with pytest.raises(RuntimeError):
        arena.step("x")


def test_invalid_action_limit_and_penalty():
    arena = GuessArena(max_turns=10)
    arena.invalid_action_penalty = 0.25
    arena.max_invalid_actions = 2
    arena.reset(seed=0)
    assert arena.step("a").reward == -0.25
    r = arena.step("b")
    assert r.terminated and r.info["termination"] == "invalid_actions"


def test_reset_is_deterministic_per_seed():
    a, b = GuessArena(), GuessArena()
    a.reset(seed=7)
    b.reset(seed=7)
    assert a.task == b.task
    assert GuessArena().sample_tasks("dev", 30, seed=3) == GuessArena().sample_tasks("dev", 30, seed=3)
    ids = [t.id for t in GuessArena().sample_tasks("dev", 20, seed=3)]
    assert len(set(ids)) == 20


def test_tools_and_info():
    info = GuessArena().info()
    assert [t["function"]["name"] for t in info["tools"]] == ["guess"]
    assert info["splits"] == {"train": 20, "dev": 20, "test": 20}
    assert np.asarray(info["reward_components"]).tolist() == ["exact", "efficiency"]
