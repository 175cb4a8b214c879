"""The multi-agent contract (self-play) and its single-agent view.

A :class:`MultiAgentArena` takes and returns dicts keyed by agent name, like PettingZoo's
parallel API. :class:`SingleAgentView` turns one into an :class:`~arenas.arena.Arena` by letting a
policy play every seat but one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from arenas.arena import Arena
from arenas.tools import as_action
from arenas.types import Action, Observation, StepResult, Task


class MultiAgentArena(ABC):
    """Several agents act at once each turn; only agents in ``pending`` owe an action."""

    id: ClassVar[str] = ""
    version: ClassVar[int] = 0
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    reward_components: ClassVar[tuple[str, ...]] = ()
    agents: Sequence[str] = ()

    @abstractmethod
    def tasks(self, split: str) -> Sequence[Task]:
        """All tasks of ``split``."""

    @abstractmethod
    def reset(self, task: Task | None = None, seed: int | None = None) -> dict[str, Observation]:
        """Starts an episode; returns the first observation of every agent that must act."""

    @abstractmethod
    def step(self, actions: dict[str, Any]) -> dict[str, StepResult]:
        """Applies the pending agents' actions; returns a result for every agent (with reward 0
        and no new messages for agents that had nothing to do)."""

    @property
    def pending(self) -> list[str]:
        """Agents that owe an action now (all agents, unless the arena says otherwise)."""
        return list(self.agents)

    def policy(self, name: str, agent: str) -> Callable[[Observation], Any] | None:
        """A baseline policy for ``agent`` in the current episode, or None."""
        return None

    def tools(self) -> list[Any]:
        return []

    def close(self) -> None:
        """Releases resources."""


class SingleAgentView(Arena):
    """One seat of a multi-agent arena; ``opponent_policy(agent_name)`` returns a policy per
    episode for each other seat."""

    def __init__(self, inner: MultiAgentArena, seat: str,
                 opponent_policy: Callable[[str], Callable[[Observation], Any]], **config: Any):
        super().__init__(**config)
        self.inner = inner
        self.seat = seat
        self.make_opponent = opponent_policy
        self.id = inner.id
        self.version = inner.version
        self.description = inner.description
        self.reward_components = inner.reward_components
        self._opponents: dict[str, Callable[[Observation], Any]] = {}
        self._pending_obs: dict[str, Observation] = {}

    def tasks(self, split: str) -> Sequence[Task]:
        return self.inner.tasks(split)

    def tools(self) -> list[Any]:
        return self.inner.tools()

    def policy(self, name: str):
        return self.inner.policy(name, self.seat)

    def _reset(self, task: Task) -> Observation:
        seed = int(self.np_random.integers(2**31))
        obs = self.inner.reset(task=task, seed=seed)
        self._opponents = {a: self.make_opponent(a) for a in self.inner.agents if a != self.seat}
        self._pending_obs = obs
        return self._advance_to_seat(obs, np.float64(0.0))[0]

    def _advance_to_seat(self, obs: dict[str, Observation], reward: float) -> tuple[Observation, float, StepResult | None]:
        """Lets opponents act until the seat must act or the episode ends."""
        while self.seat not in obs:
            if not obs:
                raise RuntimeError(f"{self.inner.id}: no agent is pending but the episode has not ended")
            actions = {a: self._opponents[a](o) for a, o in obs.items()}
            results = self.inner.step(actions)
            if self.seat in results and results[self.seat].done:
                return results[self.seat].observation, reward + results[self.seat].reward, results[self.seat]
            reward += results[self.seat].reward if self.seat in results else 0.0
            obs = {a: r.observation for a, r in results.items() if not r.done and a in self.inner.pending}
        return obs[self.seat], reward, None

    def _step(self, action: Action) -> StepResult:
        actions = {self.seat: action}
        for a, o in self._pending_obs.items():
            if a != self.seat:
                actions[a] = as_action(self._opponents[a](o))
        results = self.inner.step(actions)
        mine = results[self.seat]
        if mine.done:
            return mine
        pending = set(self.inner.pending)
        self._pending_obs = {a: r.observation for a, r in results.items() if a in pending}
        obs, reward, final = self._advance_to_seat(self._pending_obs, mine.reward)
        if final is not None:
            final.reward = reward
            return final
        self._pending_obs[self.seat] = obs
        return StepResult(obs, reward, False, False, mine.info)

    def close(self) -> None:
        self.inner.close()
