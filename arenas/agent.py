"""The Agent protocol and what an agent learns about an episode before it starts.

It lives in the core because the rollout engine drives agents; the agents themselves (LLM
backends, the trainer) live in :mod:`arenas.agents`, which the core never imports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from arenas.types import Action, Observation


class AgentStop(Exception):
    """Raised by an agent (or the harness on its behalf) to end the episode without acting:
    the arena scores what was done and the trajectory records ``reason`` as its termination
    (e.g. ``context_exhausted`` when the model's context is full, ``agent_timeout``)."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = str(reason)


@dataclass
class EpisodeContext:
    """Passed to :meth:`Agent.reset`. Holds nothing the agent may not see: the task's reference
    is reachable only through ``policy("oracle")``, which the oracle baseline uses by design."""

    arena_id: str
    task_id: str
    split: str
    seed: int
    rollout: int = 0
    """Which of the G rollouts of this (task, seed) this is; agents mix it into their sampling seed."""
    tools: list[dict[str, Any]] = field(default_factory=list)
    """The arena's tools as OpenAI function schemas."""
    policy: Callable[[str], Callable[[Observation], Any] | None] = lambda name: None
    """The arena's baseline policies for this episode ("oracle", "heuristic", "random")."""
    action_space: Any = None
    """The arena's structured action space, when it has one."""


@runtime_checkable
class Agent(Protocol):
    """Anything that can play an episode. A fresh agent is made per episode by a factory, so
    per-episode state (chat history) lives on the instance; shared state (a model) lives on the
    factory."""

    def reset(self, context: EpisodeContext) -> None: ...

    def act(self, observation: Observation) -> Action | str: ...

    # Optional: ``episode_record() -> dict`` (token ids, masks, logprobs, token counts); the
    # rollout engine stores what it returns in the trajectory.


AgentFactory = Callable[[], Agent]
