"""Non-LLM baselines: ``random`` and the arena-provided policies (``oracle``, ``heuristic``)."""

from __future__ import annotations

import json
import random as _random
from typing import Any

import numpy as np

from arenas.agent import EpisodeContext
from arenas.types import Action, Observation


class PolicyAgent:
    """Plays the arena's own baseline policy of that name (e.g. the oracle replays the task's
    reference solution, which proves the task and verifier agree)."""

    def __init__(self, name: str):
        self.name = name
        self._policy: Any = None

    def reset(self, context: EpisodeContext) -> None:
        self._policy = context.policy(self.name)
        if self._policy is None:
            raise ValueError(f"arena {context.arena_id!r} offers no {self.name!r} policy")

    def act(self, observation: Observation) -> Action | str:
        return self._policy(observation)


class RandomAgent:
    """Uniformly random play: the arena's own ``random`` policy when it has one, else a random
    legal action from the action mask, else a random tool call with schema-shaped arguments."""

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def reset(self, context: EpisodeContext) -> None:
        seed = (context.seed if self.seed is None else self.seed) + 7919 * context.rollout
        self.rng = np.random.default_rng(seed)
        self.py_rng = _random.Random(seed)
        self.tools = context.tools
        self.action_space = context.action_space
        self._policy = context.policy("random")

    def act(self, observation: Observation) -> Action | str:
        if self._policy is not None:
            return self._policy(observation)
        data = observation.data or {}
        if "action_mask" in data:
            legal = np.flatnonzero(np.asarray(data["action_mask"]))
            if len(legal):
                return Action(structured=int(self.rng.choice(legal)))
        if self.tools:
            fn = self.py_rng.choice(self.tools)["function"]
            args = {k: self._value(v) for k, v in fn.get("parameters", {}).get("properties", {}).items()}
            return f'<tool_call>{json.dumps({"name": fn["name"], "arguments": args})}</tool_call>'
        if self.action_space is not None:
            self.action_space.seed(int(self.rng.integers(2**31)))
            return Action(structured=self.action_space.sample())
        return "".join(self.py_rng.choice("abcdefghij ") for _ in range(12))

    def _value(self, schema: dict[str, Any]) -> Any:
        kind = schema.get("type")
        if kind == "integer":
            return self.py_rng.randint(0, 10)
        if kind == "number":
            return self.py_rng.random()
        if kind == "boolean":
            return self.py_rng.random() < 0.5
        return "".join(self.py_rng.choice("abcdefghij") for _ in range(6))
