"""The episode protocol owned by ``Arena``: every reward paid, every info field, every way an
episode ends, computed by hand for a scripted arena."""

import pytest

from arenas import Observation, RewardBreakdown, Task, ToolArena, tool
from arenas.arena import ArenaConfig


class Counter(ToolArena):
    """``pay(x)`` pays a process reward; ``done(total)`` finishes with that total."""

    id = "counter"
    reward_components = ("total",)
    policies = ()
    invalid_action_penalty = 0.25

    def tasks(self, split):
        return [Task(f"c{i}", split, {}) for i in range(5)]

    def first_observation(self, task):
        self.forced = 0
        return Observation([{"role": "user", "content": "go"}], data={"k": 1})

    @tool
    def pay(self, x: float) -> str:
        """Pay a process reward.

        Args:
            x: the amount
        """
        self.add_reward(x)
        return "paid"

    @tool(name="done")
    def finish_now(self, total: float) -> str:
        """Finish.

        Args:
            total: the final total
        """
        self.finish(RewardBreakdown(total, {"total": total}, passed=total > 0), "done")
        return "ok"

    def _on_forced_end(self):
        self.forced += 1
        self.finish(RewardBreakdown(-1.0, {"total": -1.0}), "forced")
        return {"settled": True}


def call(name, **args):
    import json

    return f'<tool_call>{json.dumps({"name": name, "arguments": args})}</tool_call>'


def test_process_rewards_and_the_last_step_pay_exactly_the_total():
    a = Counter(max_turns=10)
    a.reset(seed=0)
    r1 = a.step(call("pay", x=0.5) + call("pay", x=0.25))
    assert r1.reward == 0.75 and not r1.done and r1.info["turn"] == 1 and r1.info["invalid_actions"] == 0
    r2 = a.step("no tool call here")
    assert r2.reward == -0.25 and r2.info["invalid_action"] and r2.info["invalid_actions"] == 1
    r3 = a.step(call("done", total=2.0))
    assert r3.reward == pytest.approx(2.0 - 0.75 + 0.25) and r3.terminated and not r3.truncated
    assert r3.info["termination"] == "done" and r3.info["reward_breakdown"]["total"] == 2.0
    assert r1.reward + r2.reward + r3.reward == pytest.approx(2.0) and a.done
    with pytest.raises(RuntimeError, match="finished episode"):
        a.step(call("pay", x=1.0))


def test_the_turn_cap_settles_through_the_forced_end():
    a = Counter(max_turns=2)
    a.reset(seed=0)
    r1 = a.step(call("pay", x=0.5))
    r2 = a.step(call("pay", x=0.25))
    assert r2.truncated and not r2.terminated and r2.info["termination"] == "max_turns"
    assert r2.info["settled"] and a.forced == 1
    assert r1.reward + r2.reward == pytest.approx(-1.0) and r2.info["reward_breakdown"]["total"] == -1.0


def test_the_invalid_action_limit_ends_and_settles():
    a = Counter(max_turns=10)
    a.max_invalid_actions = 2
    a.reset(seed=0)
    r1 = a.step("x")
    assert not r1.done
    r2 = a.step("y")
    assert r2.terminated and r2.info["termination"] == "invalid_actions" and a.forced == 1
    assert r1.reward + r2.reward == pytest.approx(-1.0)


def test_end_episode_from_outside_scores_what_was_done():
    a = Counter(max_turns=10)
    a.reset(seed=0)
    r = a.end_episode("agent_timeout")
    assert r.observation.data == {"k": 1}  # the last observation's structured view, unchanged
    a.reset(seed=0)
    a.step(call("pay", x=0.5))
    r = a.end_episode("episode_timeout")
    assert r.truncated and r.info["termination"] == "episode_timeout" and r.reward == pytest.approx(-1.5)
    assert "ended by the harness" in r.observation.messages[0]["content"]
    with pytest.raises(RuntimeError):
        a.end_episode("again")


@pytest.mark.parametrize("action, problem", [
    ("x" * 201, "201 characters long (at most 200)"),
    (call("pay", x=1) * 3, "3 tool calls in one action (at most 2)"),
    ("\ud800", "not valid Unicode"),
])
def test_refused_actions_change_nothing_and_repeat_the_observation(action, problem):
    a = Counter(max_turns=10, max_action_chars=200, max_tool_calls=2)
    a.reset(seed=0)
    r = a.step(action)
    assert r.info["invalid_action"] and problem in r.info["invalid_reason"] and r.reward == -0.25
    assert r.observation.data == {"k": 1} and a.forced == 0


def test_a_new_episode_resets_the_books():
    a = Counter(max_turns=10)
    a.reset(seed=0)
    a.step(call("pay", x=0.5))
    a.step("bad")
    a.reset(seed=1)
    assert a.turn == 0 and a.invalid_actions == 0 and not a.done
    r = a.step(call("done", total=1.0))
    assert r.reward == 1.0


def test_reset_draws_a_task_by_seed_and_info_describes_the_arena():
    a, b = Counter(split="dev"), Counter(split="dev")
    a.reset(seed=3)
    b.reset(seed=3)
    assert a.task == b.task and a.task.split == "dev"
    info = a.info()
    assert info["id"] == "counter" and info["splits"] == {"train": 5, "dev": 5, "test": 5}
    assert info["max_turns"] == 20 and {t["function"]["name"] for t in info["tools"]} == {"pay", "done"}
    assert "<tool_call>" in info["action_grammar"] and info["config"][0]["name"] == "max_turns"
    assert a.config == ArenaConfig(split="dev").to_dict()


def test_time_left_follows_the_step_budget():
    a = Counter(step_timeout_s=5.0)
    assert a.time_left(3.0) == 3.0  # no step running: the cap
    a.reset(seed=0)
    a.step(call("pay", x=0.0))
    assert 0 < a.time_left() <= 5.0 and a.time_left(1.0) <= 1.0
    assert Counter(step_timeout_s=0).time_left(7.0) == 7.0


def test_a_tool_hidden_by_an_arena_attribute_is_a_clear_error():
    class Shadowed(Counter):
        @tool
        def turn(self) -> str:
            """Say whose turn it is."""
            return "never reached"

    with pytest.raises(TypeError, match="^Shadowed: the tool method 'turn' is hidden by an attribute"):
        Shadowed().reset(seed=0)


def test_refused_and_tool_steps_say_exactly_what_happened():
    a = Counter(max_turns=10, max_action_chars=150)
    a.reset(seed=0)
    r = a.step("y" * 151)
    assert r.observation.messages == [{"role": "user", "content": "Invalid action: action text is 151 characters "
                                                                  "long (at most 150)"}]
    assert r.terminated is False and r.truncated is False
    r = a.step('<tool_call>{"name": "pay", "arguments": {"x": 0.5}, "id": "c7"}</tool_call>'
               '<tool_call>{"name": "nope", "arguments": {}}</tool_call>')
    assert r.observation.messages[0] == {"role": "tool", "tool_call_id": "c7", "name": "pay", "content": "paid"}
    assert r.observation.messages[1] == {"role": "tool", "tool_call_id": "call_1", "name": "nope",
                                         "content": "error: unknown tool 'nope'"}
    assert r.observation.messages[2]["role"] == "user"
    assert r.observation.messages[2]["content"].startswith("Invalid action: unknown tool 'nope'; tools: ")
    assert r.info["invalid_action"] is True and r.reward == pytest.approx(0.5 - 0.25)
    r = a.step(call("pay"))
    assert "missing" in r.info["invalid_reason"] and r.observation.messages[0]["content"].startswith("error: ")
    r = a.step("just words")
    assert r.observation.messages == [{"role": "user", "content": r.info["invalid_reason"].join(
        ["Invalid action: ", ""])}] and "no tool call found" in r.info["invalid_reason"]


def test_no_step_budget_means_no_deadline():
    a = Counter(step_timeout_s=0)
    a.reset(seed=0)
    a.step(call("pay", x=0.0))
    assert a.time_left(7.0) == 7.0
