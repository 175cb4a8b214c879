"""A small deterministic arena used to test the core contracts (guess a number with hints)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from arenas import Observation, Task, ToolArena, ToolError, tool
from arenas.verifiers import Component, Rubric, Verdict


def exact(candidate, reference, context) -> Verdict:
    return Verdict(float(candidate == reference["secret"]), candidate == reference["secret"])


def fewer_guesses(candidate, reference, context) -> Verdict:
    return Verdict(1.0 / context["guesses"], True)


class GuessArena(ToolArena):
    id = "guess"
    description = "Guess a secret integer in [0, 16) with higher/lower hints."
    reward_components = ("exact", "efficiency")
    policies = ("oracle",)
    rubric = Rubric([Component("exact", exact, 1.0), Component("efficiency", fewer_guesses, 0.1)])
    observation_space = spaces.Dict({"last": spaces.Discrete(3)})
    action_space = spaces.Discrete(16)

    def tasks(self, split):
        offset = {"train": 0, "dev": 100, "test": 200}[split]
        return [Task(f"guess-{offset + i}", split, {"range": 16}, {"secret": (i * 7 + offset) % 16})
                for i in range(20)]

    def first_observation(self, task):
        self.guesses = 0
        return Observation([{"role": "user", "content": "Guess the number in [0, 16)."}],
                           data={"last": 0, "action_mask": np.ones(16, dtype=np.int8)})

    @tool
    def guess(self, number: int) -> str:
        """Guess the secret.

        Args:
            number: an integer in [0, 16)
        """
        if not 0 <= number < 16:
            raise ToolError("number out of range")
        self.guesses += 1
        secret = self.task.reference["secret"]
        if number == secret:
            self.finish(self.rubric.score(number, self.task.reference, {"guesses": self.guesses}))
            return "correct"
        return "higher" if secret > number else "lower"

    def _step(self, action):
        if action.structured is not None:
            from arenas.types import Action, ToolCall

            if isinstance(action.structured, (int, np.integer)):
                action = Action(tool_calls=[ToolCall("guess", {"number": int(action.structured)})])
            else:
                action = Action(parse_errors=[f"structured action must be an integer, got {action.structured!r}"])
        result = super()._step(action)
        last = {"correct": 0, "higher": 1, "lower": 2}
        content = result.observation.messages[0]["content"] if result.observation.messages else ""
        result.observation.data = {"last": last.get(content, 0), "action_mask": np.ones(16, dtype=np.int8)}
        return result

    def policy(self, name):
        if name != "oracle":
            return None
        secret = self.task.reference["secret"]
        return lambda obs: f'<tool_call>{{"name": "guess", "arguments": {{"number": {secret}}}}}</tool_call>'


class CrashingArena(GuessArena):
    id = "guess-crash"

    def first_observation(self, task):
        if task.id.endswith("3"):
            raise RuntimeError("boom")
        return super().first_observation(task)
