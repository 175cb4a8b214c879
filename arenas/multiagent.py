"""The multi-agent contract (self-play) and its single-agent view.

A :class:`MultiAgentArena` takes and returns dicts keyed by agent name, like PettingZoo's
parallel API. :class:`SingleAgentView` turns one into an :class:`~arenas.arena.Arena` by letting a
policy play every seat but one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

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
    #: the names :meth:`policy` answers
    policies: ClassVar[tuple[str, ...]] = ()
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
        self.policies = inner.policies
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
        first, _, final = self._advance(obs, 0.0)
        if final is not None:
            raise RuntimeError(f"{self.inner.id}: the episode ended before seat {self.seat!r} could act")
        return first

    def _pending(self, results: dict[str, StepResult]) -> dict[str, Observation]:
        pending = set(self.inner.pending)
        return {a: r.observation for a, r in results.items() if not r.done and a in pending}

    def _advance(self, obs: dict[str, Observation], reward: float) -> tuple[Observation, float, StepResult | None]:
        """Lets the other seats act until this seat must act, or the episode ends (then the
        seat's final result is returned too). Rewards the seat earns meanwhile are summed."""
        while self.seat not in obs:
            if not obs:
                raise RuntimeError(f"{self.inner.id}: no agent is pending but the episode has not ended")
            results = self.inner.step({a: self._opponents[a](o) for a, o in obs.items()})
            mine = results.get(self.seat)
            if mine is not None:
                reward += mine.reward
                if mine.done:
                    return mine.observation, reward, mine
            obs = self._pending(results)
        self._pending_obs = obs
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
        obs, reward, final = self._advance(self._pending(results), mine.reward)
        if final is not None:
            final.reward = reward
            return final
        return StepResult(obs, reward, False, False, mine.info)

    def close(self) -> None:
        self.inner.close()
