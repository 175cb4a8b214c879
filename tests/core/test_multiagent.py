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


class TakeTurns(MultiAgentArena):
    """Seats alternate adding 1 or 2 to a counter; whoever reaches 5 wins. Only one seat is pending."""

    id = "take-turns"
    agents = ("first", "second")

    def tasks(self, split):
        return [Task("t", split, {})]

    @property
    def pending(self):
        return [self.agents[self.turn % 2]]

    def reset(self, task=None, seed=None):
        self.turn, self.total = 0, 0
        return {"first": Observation([{"role": "user", "content": "total 0"}])}

    def step(self, actions):
        (seat, act), = actions.items()
        self.total += 2 if "2" in (act.text if hasattr(act, "text") else str(act)) else 1
        done = self.total >= 5
        self.turn += 1
        out = {}
        for a in self.agents:
            reward = (1.0 if a == seat else -1.0) if done else 0.0
            out[a] = StepResult(Observation([{"role": "user", "content": f"total {self.total}"}]), reward, done, False,
                                {"invalid_action": False})
        return out


def test_single_agent_view_waits_for_its_turn_in_a_turn_based_game():
    view = SingleAgentView(TakeTurns(), "second", lambda seat: (lambda obs: "1"), max_turns=10)
    first = view.reset(seed=0)
    assert first.messages[0]["content"] == "total 1"  # the opponent moved first
    r = view.step("2")  # 3, then the opponent makes 4
    assert not r.done and r.observation.messages[0]["content"] == "total 4"
    r = view.step("1")  # 5: this seat wins
    assert r.terminated and r.reward == 1.0
    view.reset(seed=1)
    view.step("1")  # 2, opponent 3
    r = view.step("1")  # 4, opponent reaches 5 and wins during the advance
    assert r.terminated and r.reward == -1.0
