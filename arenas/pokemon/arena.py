"""The single-agent VGC arena: seat ``p1`` of :class:`~arenas.pokemon.battle.PokemonBattleArena`
against an opponent.

The opponent is one of the built-in policies (``random``, ``max_power``, ``heuristic``: poke-env's
simple heuristics player), or any agent spec (``python:...``, ``openai:...``) or agent factory,
which then plays from the same text observations as the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arenas.multiagent import SingleAgentView
from arenas.pokemon.battle import PokemonBattleArena
from arenas.pokemon.players import MOVE_POLICIES
from arenas.types import Observation

SEAT = "p1"


class PokemonArena(SingleAgentView):
    """Pokémon VGC doubles against an opponent policy or agent."""

    id = "pokemon"
    version = 0
    description = ("Pokémon VGC doubles (gen9vgc2025regi, open team sheets) on a local Showdown server "
                   "against a baseline or agent opponent; +1/-1/0 from the server's battle log.")
    reward_components = PokemonBattleArena.reward_components

    def __init__(self, opponent: str | Callable[[], Any] = "heuristic", max_turns: int = 400,
                 split: str = "train", **config: Any):
        """
        Args:
            opponent: a built-in policy (random, max_power, heuristic), an agent spec, or an agent factory.
            max_turns: agent decisions per episode (retries included) before truncation; the battle's
                own cap is ``max_battle_turns``.
            config: :class:`~arenas.pokemon.battle.BattleConfig` fields (battle_format, team_set_size,
                team_seed, mirror, max_battle_turns, retries, shaped_weight, restart_after, timeout_s).
        """
        inner = PokemonBattleArena(split=split, **config)
        super().__init__(inner, SEAT, self._opponent_policy, max_turns=max_turns, split=split, **config)
        self.description = type(self).description
        self.config["opponent"] = opponent if isinstance(opponent, str) else repr(opponent)
        self.opponent = opponent
        if isinstance(opponent, str) and opponent in MOVE_POLICIES:
            inner.render_seats = {SEAT}

    def _opponent_policy(self, seat: str) -> Callable[[Observation], Any]:
        if isinstance(self.opponent, str) and self.opponent in MOVE_POLICIES:
            return self.inner.policy(self.opponent, seat)
        factory = self.opponent
        if isinstance(factory, str):
            from arenas.agents.spec import make_agent_factory

            factory = make_agent_factory(factory)
        from arenas.agents.base import EpisodeContext

        agent = factory()
        task = self.inner.task
        agent.reset(EpisodeContext(arena_id=self.id, task_id=task.id if task else "", split=self.split,
                                   seed=self.inner.seed, policy=lambda name: self.inner.policy(name, seat)))
        return agent.act

    def _on_truncate(self) -> dict[str, Any]:
        """The agent's decision budget ran out: the battle is abandoned and scored unfinished."""
        inner = self.inner
        infos = {s: {"invalid_action": False} for s in inner.agents}
        info = inner._finish(infos, truncated=True)[SEAT].info
        info.pop("termination", None)
        return info
