"""The Arena contract: a multi-turn environment with Gymnasium semantics.

Subclasses implement ``tasks``, ``_reset`` and ``_step``; the base class owns the episode
bookkeeping every arena shares (configuration, seeding, turn cap, invalid-action accounting,
reward settling), so a subclass reads as the domain and nothing else. :class:`ToolArena` adds
tool dispatch for arenas whose actions are tool calls.
"""

from __future__ import annotations

import inspect
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from arenas.config import ArenaConfig, describe
from arenas.tools import TOOL_CALL_FORMAT, Tool, as_action, schema_from_function
from arenas.types import Action, Observation, RewardBreakdown, StepResult, Task, Termination

Policy = Callable[[Observation], Any]
"""A baseline policy the arena offers (oracle, heuristic, random): observation -> action."""


class ToolError(Exception):
    """Raised by a tool for an error the agent caused and should read (bad SQL, unknown table).
    It becomes the tool's result; it is not an invalid action."""


class Arena(ABC):
    """Base class of every single-agent arena.

    Rewards: a step may pay a process reward with :meth:`add_reward`; the episode ends with
    :meth:`finish`, whose breakdown total the episode's rewards then sum to (the last step pays
    what is left). A reward an arena puts in a ``StepResult`` itself counts the same way.
    """

    id: ClassVar[str] = ""
    version: ClassVar[int] = 0
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    reward_components: ClassVar[tuple[str, ...]] = ()
    #: the names :meth:`policy` answers (validated before a run starts)
    policies: ClassVar[tuple[str, ...]] = ()
    #: what a text action looks like (``arenas info`` shows it); tool arenas default to the tool-call form
    action_grammar: ClassVar[str] = ""
    #: the configuration dataclass (validated in ``__init__``; ``arenas info`` documents it)
    config_class: ClassVar[type[ArenaConfig]] = ArenaConfig
    #: a malformed action costs this much reward
    invalid_action_penalty: float = 0.0
    #: the episode ends (terminated, reason "invalid_actions") after this many malformed actions
    max_invalid_actions: int | None = None
    #: structured view for classic RL (set by arenas that offer one)
    observation_space: Any = None
    action_space: Any = None

    def __init__(self, **config: Any):
        self.cfg = self.config_class.from_kwargs(config)
        self.max_turns = self.cfg.max_turns
        self.split = self.cfg.split
        self.task: Task | None = None
        self.done = True
        self.np_random = np.random.default_rng()
        self._last_data: dict[str, Any] | None = None
        self._step_deadline: float | None = None
        self._open_books()

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration as a dict (recorded in run.json)."""
        return self.cfg.to_dict()

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

    def _on_forced_end(self) -> dict[str, Any]:
        """Called when the harness ends an episode the arena did not end itself (turn cap,
        invalid-action limit). Score what was done: call :meth:`finish` with the breakdown of
        the unfinished episode, and/or return info to merge into the last step's info."""
        return {}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """Recomputes an episode's final breakdown from its record alone (each turn
        ``{"action": Action.to_dict(), "info": ..., "reward": ...}``) with the verifier, no
        arena state: how offline data is scored and how the conformance kit checks rewards."""
        raise NotImplementedError(f"{self.id} does not rescore recorded episodes")

    # ---- reward bookkeeping ----------------------------------------------------------------
    def finish(self, breakdown: RewardBreakdown, reason: str = Termination.SUBMITTED) -> None:
        """Ends the episode after this step; its rewards then sum to ``breakdown.total``."""
        self._final = (breakdown, str(reason))

    def add_reward(self, reward: float) -> None:
        """Pays a process reward with this step (e.g. per answered sub-question). It counts
        towards the final total: the last step pays only what ``finish``'s total has left."""
        self._pending_reward += reward

    def _open_books(self) -> None:
        """Zeroes the per-episode counts: turns, invalid actions, rewards paid and pending."""
        self.turn = 0
        self.invalid_actions = 0
        self._final: tuple[RewardBreakdown, str] | None = None
        self._paid = 0.0
        self._pending_reward = 0.0

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
        self.done = False
        self._open_books()
        obs = self._reset(task)
        self._last_data = obs.data
        return obs

    def step(self, action: Any) -> StepResult:
        if self.done:
            raise RuntimeError(f"{self.id}: step() called on a finished episode; call reset() first")
        action = as_action(action)
        self._step_deadline = time.monotonic() + self.cfg.step_timeout_s if self.cfg.step_timeout_s > 0 else None
        problem = self._refuse(action)
        if problem is None:
            result = self._step(action)
        else:
            result = StepResult(Observation(messages=[{"role": "user", "content": f"Invalid action: {problem}"}],
                                            data=self._last_data),
                                0.0, False, False, {"invalid_action": True, "invalid_reason": problem})
        self.turn += 1
        info = result.info
        info["turn"] = self.turn
        result.reward += self._pending_reward
        self._pending_reward = 0.0
        if info.get("invalid_action"):
            self.invalid_actions += 1
            result.reward -= self.invalid_action_penalty
            if (self.max_invalid_actions is not None and self.invalid_actions >= self.max_invalid_actions
                    and not result.done and self._final is None):
                result.terminated = True
                info.setdefault("termination", Termination.INVALID_ACTIONS)
                info.update(self._on_forced_end())
        info["invalid_actions"] = self.invalid_actions
        if not result.done and self._final is None and self.turn >= self.max_turns:
            result.truncated = True
            info.setdefault("termination", Termination.MAX_TURNS)
            info.update(self._on_forced_end())
        return self._close(result)

    def end_episode(self, reason: str) -> StepResult:
        """Ends the running episode from outside (a time limit ran out, the agent's context is
        full): scores what was done as the turn cap would and returns the closing step, which
        carries no action of the agent."""
        if self.done:
            raise RuntimeError(f"{self.id}: end_episode() called on a finished episode")
        message = {"role": "user", "content": f"The episode was ended by the harness: {reason}."}
        result = StepResult(Observation([message], self._last_data), 0.0, False, True,
                            {"termination": reason, "turn": self.turn, "invalid_actions": self.invalid_actions})
        result.info.update(self._on_forced_end())
        return self._close(result)

    def _close(self, result: StepResult) -> StepResult:
        """Settles the reward of a step (the last one pays what the breakdown has left)."""
        info = result.info
        if self._final is not None:
            breakdown, reason = self._final
            result.reward = breakdown.total - self._paid
            result.terminated = result.terminated or not result.truncated
            info["reward_breakdown"] = breakdown.to_dict()
            info.setdefault("termination", reason)
        self._paid += result.reward
        self._last_data = result.observation.data  # a refused action repeats it: nothing changed
        if result.done:
            info.setdefault("termination", Termination.TERMINATED if result.terminated else Termination.TRUNCATED)
            self.done = True
        return result

    def time_left(self, cap: float = float("inf")) -> float:
        """Seconds left of the current step's budget (``step_timeout_s``), at most ``cap``: a
        tool with its own limit (a query timeout) takes ``min(its limit, time_left())``."""
        if self._step_deadline is None:
            return cap
        return max(0.0, min(cap, self._step_deadline - time.monotonic()))

    def _refuse(self, action: Action) -> str | None:
        """Why an action is refused before the arena sees it (size caps, broken Unicode), or None."""
        text = action.text
        if not isinstance(text, str):
            return f"action text must be a string, got {type(text).__name__}"
        if len(text) > self.cfg.max_action_chars:
            return f"action text is {len(text):,} characters long (at most {self.cfg.max_action_chars:,})"
        if len(action.tool_calls) > self.cfg.max_tool_calls:
            return f"{len(action.tool_calls)} tool calls in one action (at most {self.cfg.max_tool_calls})"
        try:
            text.encode()
            for call in action.tool_calls:
                json.dumps(call.arguments, ensure_ascii=False, allow_nan=False).encode()
        except UnicodeEncodeError as e:
            return f"the action is not valid Unicode (an unpaired surrogate at position {e.start})"
        except (ValueError, TypeError, RecursionError) as e:
            return f"tool-call arguments are not plain JSON values ({str(e)[:80]})"
        return None

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
            "policies": list(self.policies),
            "action_grammar": self.action_grammar or (TOOL_CALL_FORMAT if self.tools() else ""),
            "config": describe(self.config_class),
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

    def _reset(self, task: Task) -> Observation:
        for attr, _ in self._tool_table().values():
            if not callable(getattr(self, attr)):
                raise TypeError(f"{type(self).__name__}: the tool method {attr!r} is hidden by an attribute of the "
                                f"same name; name the method otherwise and keep the tool's name with @tool(name=...)")
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
        for i, call in enumerate(action.tool_calls):
            if self._final is not None:
                break
            if i and self.time_left() <= 0:
                skipped = len(action.tool_calls) - i
                messages.append({"role": "user", "content": f"The step's time budget of {self.cfg.step_timeout_s:g} s "
                                 f"ran out: the last {skipped} tool call(s) were not run."})
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
        return StepResult(Observation(messages=messages), 0.0, False, False, info)
