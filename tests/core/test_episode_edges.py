"""Edges of the episode protocol owned by ``Arena`` and ``ToolArena``: the state before the first
episode, rewards an arena pays in its own ``StepResult``, episodes an arena ends without
``finish``, the step time budget, refused actions at their exact limits, and the feedback an
agent reads for each."""

import json
import time

import numpy as np
import pytest

from arenas import Action, Arena, Observation, RewardBreakdown, StepResult, Task, ToolArena, ToolCall, tool
from arenas.tools import TOOL_CALL_FORMAT


def call(name, **args):
    return f'<tool_call>{json.dumps({"name": name, "arguments": args})}</tool_call>'


class Desk(ToolArena):
    """Tools that pay, finish, wait, report the step budget, and a text reply that is feedback."""

    id = "desk"
    version = 3
    description = "A desk of tools."
    policies = ("oracle", "random")

    def tasks(self, split):
        return [Task(f"{split}-{i}", split, {}) for i in range(20)]

    def first_observation(self, task):
        self.draw = float(self.np_random.random())
        self.steps = 0
        return Observation([{"role": "user", "content": "go"}], data={"steps": 0})

    def _step(self, action):
        result = super()._step(action)
        self.steps += 1
        result.observation.data = {"steps": self.steps}
        return result

    def on_text(self, action):
        return f"noted: {action.text}" if action.text.startswith("note") else None

    @tool
    def pay(self, x: float) -> str:
        """Pay a process reward.

        Args:
            x: the amount
        """
        self.add_reward(x)
        return "paid"

    @tool(name="submit")
    def submit_total(self, total: float) -> str:
        """Finish with a total.

        Args:
            total: the final total
        """
        self.finish(RewardBreakdown(total, {}, passed=True))
        return "submitted"

    @tool
    def wait(self, seconds: float) -> str:
        """Sleep, then report what is left of the step budget.

        Args:
            seconds: how long
        """
        time.sleep(seconds)
        return f"{self.time_left():g}"

    @tool
    def left(self) -> str:
        """Report what is left of the step budget."""
        return f"{self.time_left():g}"


class Plain(Arena):
    """An arena that computes its own rewards and ends episodes without ``finish``."""

    id = "plain"

    def __init__(self, script=(), empty=(), **config):
        super().__init__(**config)
        self.script = list(script)
        self.empty = set(empty)

    def tasks(self, split):
        return [] if split in self.empty else [Task(f"p{i}", split, {}) for i in range(3)]

    def _reset(self, task):
        self.rest = list(self.script)
        return Observation([{"role": "user", "content": "start"}], data={"at": 0})

    def _step(self, action):
        reward, terminated, truncated, extra = self.rest.pop(0)
        if extra:
            self.add_reward(extra)
        return StepResult(Observation([{"role": "user", "content": "next"}], data={"at": self.turn + 1}),
                          reward, terminated, truncated, {})


# ---- before the first episode ------------------------------------------------------------
def test_a_fresh_arena_has_no_episode_until_reset():
    a = Desk()
    assert a.task is None and a.turn == 0 and a.invalid_actions == 0 and a.done is True
    with pytest.raises(RuntimeError, match="^desk: step\\(\\) called on a finished episode; call reset\\(\\) first$"):
        a.step(call("pay", x=1.0))
    with pytest.raises(RuntimeError, match="^desk: end_episode\\(\\) called on a finished episode$"):
        a.end_episode("agent_timeout")
    a.reset(task=a.tasks("test")[0])  # no seed: the arena's own generator serves the episode
    assert a.done is False and 0.0 <= a.draw < 1.0


def test_reset_seeds_the_generator_with_or_without_a_given_task():
    task = Desk().tasks("dev")[4]
    a = Desk()
    a.reset(task=task, seed=11)
    assert a.task == task and a.draw == np.random.default_rng(11).random()
    b = Desk()
    b.reset(seed=11)  # the task is drawn first, then the episode uses the same generator
    rng = np.random.default_rng(11)
    assert b.task == b.tasks("train")[int(rng.integers(20))] and b.draw == rng.random()


def test_reset_without_seed_or_task_draws_fresh_randomness():
    a, b = Desk(), Desk()
    a.reset(seed=5)
    b.reset(seed=5)
    assert a.draw == b.draw
    a.reset()
    b.reset()
    assert a.draw != b.draw  # not a replay of the seeded generator


def test_a_split_without_tasks_is_a_clear_error():
    with pytest.raises(ValueError, match="^plain: split 'dev' has no tasks$"):
        Plain(split="dev", empty={"dev"}).reset()
    assert Plain(empty={"dev"}).sample_tasks("dev", 5) == []


def test_sample_tasks_defaults_to_seed_zero():
    a = Desk()
    assert a.sample_tasks("test", 7) == a.sample_tasks("test", 7, seed=0) != a.sample_tasks("test", 7, seed=1)


# ---- rewards and endings an arena computes itself ----------------------------------------
def test_a_reward_in_the_step_result_adds_to_process_rewards():
    a = Plain(script=[(0.3, False, False, 0.2), (0.5, False, False, 0.0)])
    a.reset(seed=0)
    assert a.step("x").reward == pytest.approx(0.5)
    assert a.step("y").reward == 0.5


@pytest.mark.parametrize("terminated, truncated, reason", [(True, False, "terminated"), (False, True, "truncated")])
def test_an_episode_ended_without_finish_names_its_ending(terminated, truncated, reason):
    a = Plain(script=[(0.25, terminated, truncated, 0.0)])
    a.reset(seed=0)
    r = a.step("x")
    assert r.info == {"turn": 1, "invalid_actions": 0, "termination": reason}
    assert (r.terminated, r.truncated, r.reward) == (terminated, truncated, 0.25) and a.done


def test_end_episode_without_a_forced_end_score_pays_nothing():
    a = Plain(script=[(0.0, False, False, 0.0), (0.0, False, False, 0.0)], max_action_chars=3)
    a.reset(seed=0)
    a.step("x")
    a.step("toolong")  # refused
    r = a.end_episode("context_exhausted")
    assert r.reward == 0.0 and r.terminated is False and r.truncated is True
    assert r.info == {"termination": "context_exhausted", "turn": 2, "invalid_actions": 1}
    assert r.observation.messages == [{"role": "user",
                                       "content": "The episode was ended by the harness: context_exhausted."}]
    assert r.observation.data == {"at": 1}  # the last step's structured view, not the refused step's


def test_a_refused_action_repeats_the_latest_structured_view():
    a = Desk(max_action_chars=80)
    a.reset(seed=0)
    a.step(call("pay", x=0.0))
    a.step(call("pay", x=0.0))
    r = a.step("z" * 81)
    assert r.info["invalid_action"] and r.observation.data == {"steps": 2}


# ---- ToolArena dispatch ------------------------------------------------------------------
def test_calls_after_the_finishing_call_are_not_run():
    a = Desk()
    a.reset(seed=0)
    r = a.step(call("pay", x=0.5) + call("submit", total=2.0) + call("pay", x=9.0))
    assert [m["content"] for m in r.observation.messages] == ["paid", "submitted"]
    assert r.reward == 2.0 and r.terminated is True and r.truncated is False


def test_text_replies_can_be_feedback_instead_of_invalid():
    a = Desk()
    a.reset(seed=0)
    r = a.step("note to self")
    assert r.observation.messages == [{"role": "user", "content": "noted: note to self"}]
    assert r.info == {"invalid_action": False, "turn": 1, "invalid_actions": 0}
    assert r.terminated is False and r.truncated is False


def test_every_problem_of_an_action_is_reported_together():
    a = Desk()
    a.reset(seed=0)
    r = a.step(call("nope") + call("pay"))
    reason = "unknown tool 'nope'; tools: left, pay, submit, wait; pay is missing required argument(s): x"
    assert r.info["invalid_reason"] == reason
    assert r.observation.messages[-1] == {"role": "user", "content": "Invalid action: " + reason}


def test_calls_past_the_step_budget_are_not_run():
    a = Desk(step_timeout_s=0.2)
    a.reset(seed=0)
    r = a.step(call("wait", seconds=0.3) + call("left") + call("pay", x=1.0))
    assert [m["content"] for m in r.observation.messages] == [
        "0", "The step's time budget of 0.2 s ran out: the last 2 tool call(s) were not run."]
    assert r.observation.messages[1]["role"] == "user"
    assert r.reward == 0.0 and not r.info["invalid_action"]


def test_calls_within_a_sub_second_budget_all_run():
    a = Desk(step_timeout_s=0.9)
    a.reset(seed=0)
    r = a.step(call("left") + call("left"))
    left = [float(m["content"]) for m in r.observation.messages]
    assert len(left) == 2 and all(0.0 < x <= 0.9 for x in left)


# ---- refusals at their limits ------------------------------------------------------------
def test_actions_exactly_at_the_size_limits_are_accepted():
    a = Desk(max_action_chars=len(call("pay", x=0.5) * 2), max_tool_calls=2)
    a.reset(seed=0)
    r = a.step(call("pay", x=0.5) * 2)
    assert not r.info["invalid_action"] and r.reward == 1.0


@pytest.mark.parametrize("arguments, reason", [
    ({"x": "\ud800"}, "the action is not valid Unicode (an unpaired surrogate at position 7)"),
    ({"x": float("nan")}, "tool-call arguments are not plain JSON values "
                          "(Out of range float values are not JSON compliant)"),
])
def test_tool_call_arguments_must_be_plain_json(arguments, reason):
    a = Desk()
    a.reset(seed=0)
    r = a.step(Action(tool_calls=[ToolCall("pay", arguments)]))
    assert r.info["invalid_reason"] == reason and r.observation.messages[0]["content"] == f"Invalid action: {reason}"


def test_the_reason_for_unserializable_arguments_stays_short():
    a = Desk()
    a.reset(seed=0)
    unserializable = type("V" * 100, (), {})()
    r = a.step(Action(tool_calls=[ToolCall("pay", {"x": unserializable})]))
    assert r.info["invalid_reason"] == "tool-call arguments are not plain JSON values (Object of type " + "V" * 65 + ")"


def test_a_non_string_action_text_is_refused():
    a = Desk()
    a.reset(seed=0)
    assert a.step(Action(text=b"")).info["invalid_reason"] == "action text must be a string, got bytes"


# ---- description ---------------------------------------------------------------------------
def test_info_describes_identity_view_and_grammar():
    info = Desk().info()
    assert (info["id"], info["version"], info["description"]) == ("desk", 3, "A desk of tools.")
    assert info["policies"] == ["oracle", "random"] and info["structured_view"] is False
    assert info["action_grammar"] == TOOL_CALL_FORMAT
    assert [t["function"]["name"] for t in info["tools"]] == ["left", "pay", "submit", "wait"]
    plain = Plain().info()
    assert plain["action_grammar"] == "" and plain["tools"] == [] and plain["policies"] == []

    class Structured(Plain):
        action_space = object()
        action_grammar = "a number"

    assert Structured().info()["structured_view"] is True and Structured().info()["action_grammar"] == "a number"


def test_a_tool_is_offered_and_called_by_the_name_given_to_it():
    class Renamed(ToolArena):
        id = "renamed"

        def tasks(self, split):
            return [Task("r0", split, {})]

        def first_observation(self, task):
            return Observation([{"role": "user", "content": "go"}])

        @tool(name="lookup")
        def _lookup_impl(self, key: str) -> str:
            """Look a key up.

            Args:
                key: what to look up
            """
            return key.upper()

    a = Renamed()
    (schema,) = a.info()["tools"]
    assert schema["function"]["name"] == "lookup" and schema["function"]["parameters"]["required"] == ["key"]
    a.reset(seed=0)
    assert a.step(call("lookup", key="ab")).observation.messages[0]["content"] == "AB"


def test_an_arena_without_a_rescorer_says_so():
    a = Plain()
    with pytest.raises(NotImplementedError, match="^plain does not rescore recorded episodes$"):
        a.rescore(a.tasks("test")[0], [])
