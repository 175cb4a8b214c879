"""Scripted agents and arenas for the rollout-engine tests."""

import arenas
from tests.core.guess_arena import GuessArena


class Echo:
    """Guesses 0, 1, 2, ... and keeps every observation it was shown; reports ``tokens``
    prompt and completion tokens per episode when asked."""

    def __init__(self, tokens=0):
        self.tokens = tokens
        self.seen = []

    def reset(self, context):
        self.context = context
        self.n = -1

    def act(self, observation):
        self.seen.append(observation.messages)
        self.n += 1
        return f'<tool_call>{{"name": "guess", "arguments": {{"number": {self.n}}}}}</tool_call>'

    def episode_record(self):
        return {"token_counts": {"prompt": self.tokens, "completion": self.tokens}} if self.tokens else {}


class Tally(GuessArena):
    """Pays 0.5 a step; an episode ended from outside scores -1 in all."""

    id = "tally"

    def _step(self, action):
        self.add_reward(0.5)
        return super()._step(action)

    def _on_forced_end(self):
        self.finish(arenas.RewardBreakdown(-1.0, {}), "forced")
        return {}
