"""The Arena contract: a multi-turn environment with Gymnasium semantics.

Subclasses implement ``tasks``, ``_reset`` and ``_step``; the base class owns the episode
bookkeeping every arena shares (seeding, turn cap, invalid-action accounting), so a subclass
reads as the domain and nothing else. :class:`ToolArena` adds tool dispatch for arenas whose
actions are tool calls.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from arenas.tools import TOOL_CALL_FORMAT, Tool, as_action, schema_from_function
from arenas.types import Action, Observation, StepResult, Task
from arenas.verifiers.base import RewardBreakdown

Policy = Callable[[Observation], Any]
"""A baseline policy the arena offers (oracle, heuristic, random): observation -> action."""


class ToolError(Exception):
    """Raised by a tool for an error the agent caused and should read (bad SQL, unknown table).
    It becomes the tool's result; it is not an invalid action."""


class Arena(ABC):
    """Base class of every single-agent arena."""

    id: ClassVar[str] = ""
    version: ClassVar[int] = 0
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    reward_components: ClassVar[tuple[str, ...]] = ()
    #: a malformed action costs this much reward
    invalid_action_penalty: float = 0.0
    #: the episode ends (terminated, reason "invalid_actions") after this many malformed actions
    max_invalid_actions: int | None = None
    #: structured view for classic RL (set by arenas that offer one)
    observation_space: Any = None
    action_space: Any = None

    def __init__(self, max_turns: int = 20, split: str = "train", **config: Any):
        self.max_turns = max_turns
        self.split = split
        self.config = {"max_turns": max_turns, "split": split, **config}
        self.task: Task | None = None
        self.turn = 0
        self.invalid_actions = 0
        self.done = True
        self.np_random = np.random.default_rng()

    # ---- what a subclass provides ------------------------------------------------------
    @abstractmethod
    def tasks(self, split: str) -> Sequence[Task]:
        """All tasks of ``split``, deterministic for this arena version and config."""

    @abstractmethod
    def _reset(self, task: Task) -> Observation:
        """Starts an episode on ``task``; returns the first observation."""

    @abstractmethod
    def _step(self, action: Action) -> StepResult:
        """Applies one action. Set ``info["invalid_action"]`` for malformed actions and, on the
        last step, ``info["reward_breakdown"]`` and ``info["termination"]``."""

    def tools(self) -> list[Tool]:
        """The tools an agent may call (OpenAI-style schemas)."""
        return []

    def policy(self, name: str) -> Policy | None:
        """A baseline policy for the current episode ("oracle", "heuristic", "random"), or None."""
        return None

    def _on_truncate(self) -> dict[str, Any]:
        """Called when the turn cap (or the invalid-action limit) ends an episode; returns info
        to merge (e.g. the final breakdown). A ``"reward"`` entry is added to the last step's
        reward, so arenas whose step rewards sum to a final total can settle it."""
        return {}

    def close(self) -> None:
        """Releases resources (connections, servers)."""

    # ---- the Gymnasium-style surface ---------------------------------------------------
    def reset(self, task: Task | None = None, seed: int | None = None) -> Observation:
        if seed is not None or task is None:
            self.np_random = np.random.default_rng(seed)
        if task is None:
            pool = self.tasks(self.split)
            if not pool:
                raise ValueError(f"{self.id}: split {self.split!r} has no tasks")
            task = pool[int(self.np_random.integers(len(pool)))]
        self.task = task
        self.turn = 0
        self.invalid_actions = 0
        self.done = False
        return self._reset(task)

    def step(self, action: Any) -> StepResult:
        if self.done:
            raise RuntimeError(f"{self.id}: step() called on a finished episode; call reset() first")
        result = self._step(as_action(action))
        self.turn += 1
        info = result.info
        info["turn"] = self.turn
        if info.get("invalid_action"):
            self.invalid_actions += 1
            result.reward -= self.invalid_action_penalty
            if (self.max_invalid_actions is not None and self.invalid_actions >= self.max_invalid_actions
                    and not result.done):
                result.terminated = True
                info.setdefault("termination", "invalid_actions")
                self._settle(result)
        info["invalid_actions"] = self.invalid_actions
        if not result.done and self.turn >= self.max_turns:
            result.truncated = True
            info.setdefault("termination", "max_turns")
            self._settle(result)
        if result.done:
            info.setdefault("termination", "terminated" if result.terminated else "truncated")
            self.done = True
        return result

    def _settle(self, result: StepResult) -> None:
        extra = dict(self._on_truncate())
        result.reward += float(extra.pop("reward", 0.0))
        result.info.update(extra)

    # ---- description -----------------------------------------------------------------
    def sample_tasks(self, split: str, n: int, seed: int = 0) -> list[Task]:
        """``n`` tasks of ``split`` in a seeded order (cycling when n exceeds the split)."""
        pool = list(self.tasks(split))
        if not pool:
            return []
        order = np.random.default_rng(seed).permutation(len(pool))
        return [pool[order[i % len(pool)]] for i in range(n)]

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "description": self.description,
            "tools": [t.to_openai() for t in self.tools()],
            "splits": {s: len(self.tasks(s)) for s in self.splits},
            "reward_components": list(self.reward_components),
            "max_turns": self.max_turns,
            "structured_view": self.action_space is not None,
        }

    def __enter__(self) -> Arena:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _tool_methods(cls: type) -> dict[str, tuple[str, Tool]]:
    found: dict[str, tuple[str, Tool]] = {}
    for attr, fn in inspect.getmembers(cls, inspect.isfunction):
        name = getattr(fn, "__arena_tool__", None)
        if name:
            found[name] = (attr, schema_from_function(fn, name))
    return found


class ToolArena(Arena):
    """An arena whose actions are tool calls on ``@tool`` methods.

    A tool ends the episode by calling :meth:`finish`. Tool calls after that in the same
    action are ignored. Unknown tools, bad arguments, unparsable calls and replies without any
    tool call are invalid actions: they come back as feedback messages.
    """

    _tool_cache: ClassVar[dict[type, dict[str, tuple[str, Tool]]]] = {}

    def tools(self) -> list[Tool]:
        return [t for _, t in self._tool_table().values()]

    def _tool_table(self) -> dict[str, tuple[str, Tool]]:
        cls = type(self)
        if cls not in ToolArena._tool_cache:
            ToolArena._tool_cache[cls] = _tool_methods(cls)
        return ToolArena._tool_cache[cls]

    def finish(self, breakdown: RewardBreakdown, reason: str = "submitted") -> None:
        """Ends the episode; the episode's rewards then sum to ``breakdown.total``."""
        self._final = (breakdown, reason)

    def add_reward(self, reward: float) -> None:
        """Pays a process reward now (e.g. per answered sub-question). It counts towards the
        final total: the last step pays only what ``finish``'s total has left."""
        self._step_reward += reward

    def _reset(self, task: Task) -> Observation:
        self._final: tuple[RewardBreakdown, str] | None = None
        self._paid = 0.0
        self._step_reward = 0.0
        return self.first_observation(task)

    @abstractmethod
    def first_observation(self, task: Task) -> Observation:
        """The system/user messages that open an episode."""

    def on_text(self, action: Action) -> str | None:
        """Handles a reply with no tool call; returns feedback or None to count it invalid."""
        return None

    def _step(self, action: Action) -> StepResult:
        table = self._tool_table()
        messages: list[dict[str, Any]] = []
        problems: list[str] = list(action.parse_errors)
        if not action.tool_calls and not problems:
            feedback = self.on_text(action)
            if feedback is None:
                problems.append(f"no tool call found. {TOOL_CALL_FORMAT}")
            else:
                messages.append({"role": "user", "content": feedback})
        for call in action.tool_calls:
            if self._final is not None:
                break
            entry = table.get(call.name)
            if entry is None:
                problems.append(f"unknown tool {call.name!r}; tools: {', '.join(table)}")
                content = f"error: unknown tool {call.name!r}"
            else:
                args, err = entry[1].validate(call.arguments)
                if err:
                    problems.append(err)
                    content = f"error: {err}"
                else:
                    try:
                        content = str(getattr(self, entry[0])(**args))
                    except ToolError as e:
                        content = f"error: {e}"
            messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content})
        if problems:
            messages.append({"role": "user", "content": "Invalid action: " + "; ".join(problems)})
        info: dict[str, Any] = {"invalid_action": bool(problems)}
        if problems:
            info["invalid_reason"] = "; ".join(problems)
        reward, self._step_reward = self._step_reward, 0.0
        terminated = False
        if self._final is not None:
            breakdown, reason = self._final
            reward = breakdown.total - self._paid
            terminated = True
            info["reward_breakdown"] = breakdown.to_dict()
            info["termination"] = reason
        self._paid += reward
        return StepResult(Observation(messages=messages), reward, terminated, False, info)
