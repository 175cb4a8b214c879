"""Any arena as a ``verifiers`` multi-turn environment (``pip install verifiers``).

    from arenas.integrations.verifiers import load_environment
    env = load_environment("sql", split="train", n=200)
    env.evaluate_sync(client=AsyncOpenAI(...), model="...")

The dataset rows name tasks (the arena's own seeded sample, the seed of row i is ``seed + i`` as
in ``arenas run``); each rollout borrows an arena from an :class:`~arenas.rollout.ArenaPool`,
opens with the arena's first observation, turns every assistant message into an action (native
tool calls or text-parsed ones), and ends when the arena ends the episode. The rubric is the
arena's verifier: the sum of the step rewards, which the contract makes equal to the final
breakdown's total. An episode ``verifiers`` cuts short (its own turn cap) is ended by the arena
and scored as the arena's turn cap would score it. Pass ``remote=<url>`` in ``arena_config`` to
play a served arena.
"""

from __future__ import annotations

import asyncio
from typing import Any

from datasets import Dataset

import verifiers as vf  # the PyPI package (this project's own install as arenas.verifiers)
from arenas.arena import Arena
from arenas.registry import make
from arenas.rollout import ArenaPool
from arenas.tools import as_action
from arenas.types import Termination


async def arena_reward(state: vf.State, **_: Any) -> float:
    """The episode's return under the arena's verifier."""
    return float(sum(state.get("arena_rewards") or []))


class ArenaEnv(vf.MultiTurnEnv):
    """An arena's tasks of one split as a ``verifiers`` environment."""

    def __init__(self, arena: str, split: str = "train", n: int = 100, seed: int = 0,
                 arena_config: dict[str, Any] | None = None, max_turns: int = -1, **kwargs: Any):
        self.arena_id = arena
        config = dict(arena_config or {})
        self.pool = ArenaPool(lambda: make(arena, **config))
        self.live: dict[str, Arena] = {}
        probe = self.pool.acquire()
        try:
            tasks = probe.sample_tasks(split, n, seed)
            rows = [{"prompt": probe.reset(task=t, seed=seed + i).messages, "answer": "", "example_id": i,
                     "info": {"task_id": t.id, "split": t.split, "seed": seed + i}} for i, t in enumerate(tasks)]
            tools = [t.to_openai() for t in probe.tools()] or None
        finally:
            self.pool.release(probe)
        self.tasks = {t.id: t for t in tasks}
        dataset = Dataset.from_list(rows)
        super().__init__(dataset=dataset, eval_dataset=dataset, rubric=vf.Rubric(funcs=[arena_reward]),
                         oai_tools=tools, max_turns=max_turns, **kwargs)

    async def setup_state(self, state: vf.State) -> vf.State:
        info = state["info"]
        arena = self.pool.acquire()
        self.live[state["trajectory_id"]] = arena
        obs = await asyncio.to_thread(arena.reset, self.tasks[info["task_id"]], int(info["seed"]))
        state["prompt"] = obs.messages
        state["arena_rewards"] = []
        return state

    async def env_response(self, messages: vf.Messages, state: vf.State, **kwargs: Any) -> vf.Messages:
        arena = self.live[state["trajectory_id"]]
        reply = dict(messages[-1])
        result = await asyncio.to_thread(arena.step, as_action({"content": reply.get("content"),
                                                                "tool_calls": reply.get("tool_calls")}))
        state["arena_rewards"].append(result.reward)
        if result.done:
            state["final_env_response"] = result.observation.messages
            state["arena_breakdown"] = result.info.get("reward_breakdown")
        return result.observation.messages

    @vf.cleanup
    async def release_arena(self, state: vf.State) -> None:
        """Ends an episode ``verifiers`` stopped first (scored as a turn cap) and returns the arena."""
        arena = self.live.pop(state.get("trajectory_id"), None)
        if arena is None:
            return
        broken = False
        try:
            if not arena.done:
                closing = await asyncio.to_thread(arena.end_episode, Termination.MAX_TURNS)
                state["arena_rewards"].append(closing.reward)
                state["arena_breakdown"] = closing.info.get("reward_breakdown")
        except Exception:
            broken = True
            raise
        finally:
            self.pool.release(arena, broken=broken)


def load_environment(arena: str, **kwargs: Any) -> ArenaEnv:
    """The ``verifiers`` entry point: ``vf.load_environment``-style construction by arena id."""
    return ArenaEnv(arena, **kwargs)
