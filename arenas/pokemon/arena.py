"""The single-agent VGC arena: seat ``p1`` of :class:`~arenas.pokemon.battle.PokemonBattleArena`
against an opponent.

The opponent is one of the built-in policies (``random``, ``max_power``, ``heuristic``: poke-env's
simple heuristics player), or any agent spec (``python:...``, ``openai:...``) or agent factory,
which then plays from the same text observations as the agent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arenas.arena import ArenaConfig
from arenas.multiagent import SingleAgentView
from arenas.pokemon.battle import BattleConfig, PokemonBattleArena
from arenas.pokemon.players import MOVE_POLICIES
from arenas.types import Observation, RewardBreakdown, Task, Termination

SEAT = "p1"


@dataclass
class PokemonConfig(BattleConfig, ArenaConfig):
    max_turns: int = 400
    """Agent decisions per episode (retries included) before truncation; the battle's own cap is
    ``max_battle_turns``."""
    opponent: Any = "heuristic"
    """A built-in policy (random, max_power, heuristic), an agent spec, or (from Python) an agent factory."""


class PokemonArena(SingleAgentView):
    """Pokémon VGC doubles against an opponent policy or agent."""

    id = "pokemon"
    version = 0
    description = ("Pokémon VGC doubles (gen9vgc2025regi, open team sheets) on a local Showdown server "
                   "against a baseline or agent opponent; +1/-1/0 from the server's battle log.")
    reward_components = PokemonBattleArena.reward_components

    config_class = PokemonConfig

    def __init__(self, **config: Any):
        cfg = PokemonConfig.from_kwargs(config)
        inner = PokemonBattleArena(split=cfg.split, **{f.name: getattr(cfg, f.name)
                                                       for f in dataclasses.fields(BattleConfig)})
        super().__init__(inner, SEAT, self._opponent_policy, **config)
        self.description = type(self).description
        self.opponent = opponent = self.cfg.opponent
        if isinstance(opponent, str) and opponent in MOVE_POLICIES:
            inner.render_seats = {SEAT}

    def _opponent_policy(self, seat: str) -> Callable[[Observation], Any]:
        if isinstance(self.opponent, str) and self.opponent in MOVE_POLICIES:
            return self.inner.policy(self.opponent, seat)
        factory = self.opponent
        if isinstance(factory, str):
            from arenas.agent_spec import make_agent_factory

            factory = make_agent_factory(factory)
        from arenas.agent import EpisodeContext

        agent = factory()
        task = self.inner.task
        agent.reset(EpisodeContext(arena_id=self.id, task_id=task.id if task else "", split=self.split,
                                   seed=self.inner.seed, policy=lambda name: self.inner.policy(name, seat)))
        return agent.act

    def _on_forced_end(self) -> dict[str, Any]:
        """The agent's decision budget ran out: the battle is abandoned and scored unfinished."""
        inner = self.inner
        infos = {s: {"invalid_action": False} for s in inner.agents}
        info = inner._finish(infos, truncated=True)[SEAT].info
        info.pop("termination", None)
        self.finish(RewardBreakdown.from_dict(info.pop("reward_breakdown")), Termination.MAX_TURNS)
        return info

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """Scores the battle log recorded in the last turn's info, as the arena did."""
        info = turns[-1]["info"]
        candidate = {"log": info["battle_log"], "username": info["username"],
                     "truncated": info["battle_truncated"]}
        return self.inner.rubric.score(candidate, {}, {"format": self.inner.config.battle_format})
