"""The core tests' guess arena with what a leaderboard needs: ``rescore`` and a scored forced end."""

from __future__ import annotations

import arenas
from arenas.registry import ArenaSpec, add
from arenas.types import Action, RewardBreakdown, ToolCall
from tests.core.guess_arena import GuessArena


class ScoredGuessArena(GuessArena):
    id = "lb-guess"

    def _on_forced_end(self):
        self.finish(RewardBreakdown(0.0, {"exact": 0.0, "efficiency": 0.0}), "max_turns")
        return {}

    def rescore(self, task, turns):
        """Replays the recorded guesses (tool calls or structured actions) against the secret."""
        guesses = 0
        for turn in turns:
            action = Action.from_dict(turn["action"])
            calls = action.tool_calls
            if action.structured is not None:
                calls = [ToolCall("guess", {"number": int(action.structured)})]
            for call in calls:
                number = call.arguments.get("number")
                if call.name != "guess" or not isinstance(number, int) or not 0 <= number < 16:
                    continue
                guesses += 1
                if number == task.reference["secret"]:
                    return self.rubric.score(number, task.reference, {"guesses": guesses})
        return RewardBreakdown(0.0, {"exact": 0.0, "efficiency": 0.0})


class CrashingScoredArena(ScoredGuessArena):
    id = "lb-guess-crash"

    def first_observation(self, task):
        if task.id.endswith("3"):
            raise RuntimeError("boom")
        return super().first_observation(task)


def register() -> None:
    """Registers the test arenas (``lb-plain`` cannot rescore); ``lb-guess`` with a manifest-style
    ``[suite]`` table, as a new arena folder would have."""
    add(ArenaSpec("lb-guess", ScoredGuessArena, summary="guess with rescore",
                  suite={"split": "test", "n": 8, "seed": 0}))
    arenas.register("lb-guess-crash", CrashingScoredArena)
    arenas.register("lb-plain", GuessArena)


def play(out, agent: str = "oracle", arena: str = "lb-guess", n: int = 8, rollouts: int = 1, seed: int = 0) -> None:
    from arenas.agent_spec import make_agent_factory
    from arenas.rollout import RunConfig, run

    run(RunConfig(arena=arena, agent=agent, n=n, rollouts=rollouts, seed=seed), make_agent_factory(agent),
        out=out, progress=False)
