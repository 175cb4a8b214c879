"""The multi-agent contract and its single-agent view, on rock-paper-scissors (first to 2 wins)."""

from arenas import MultiAgentArena, Observation, SingleAgentView, StepResult, Task

BEATS = {"rock": "scissors", "paper": "rock", "scissors": "paper"}


class RPS(MultiAgentArena):
    id = "rps"
    agents = ("a", "b")

    def tasks(self, split):
        return [Task(f"rps-{i}", split, {}) for i in range(3)]

    def reset(self, task=None, seed=None):
        self.score = {"a": 0, "b": 0}
        return {a: Observation([{"role": "user", "content": "rock, paper or scissors?"}]) for a in self.agents}

    def step(self, actions):
        moves = {a: (act.text if hasattr(act, "text") else str(act)).strip() for a, act in actions.items()}
        invalid = {a: moves[a] not in BEATS for a in self.agents}
        for a, other in (("a", "b"), ("b", "a")):
            if not invalid[a] and (invalid[other] or BEATS[moves[a]] == moves[other]):
                self.score[a] += 1
        done = max(self.score.values()) >= 2
        out = {}
        for a, other in (("a", "b"), ("b", "a")):
            reward = (1.0 if self.score[a] > self.score[other] else -1.0) if done else 0.0
            out[a] = StepResult(Observation([{"role": "user", "content": f"opponent played {moves[other]}"}]),
                                reward, done, False, {"invalid_action": invalid[a]})
        return out


def test_single_agent_view_plays_against_a_policy():
    view = SingleAgentView(RPS(), "a", lambda seat: (lambda obs: "scissors"), max_turns=10)
    view.reset(seed=0)
    r = view.step("rock")
    assert not r.done and r.observation.messages[0]["content"] == "opponent played scissors"
    r = view.step("rock")
    assert r.terminated and r.reward == 1.0


def test_invalid_moves_are_counted_and_lose():
    view = SingleAgentView(RPS(), "a", lambda seat: (lambda obs: "paper"), max_turns=10)
    view.reset(seed=0)
    view.step("lizard")
    r = view.step("spock")
    assert r.terminated and r.reward == -1.0 and view.invalid_actions == 2
