"""What a run keeps: resumed runs retry failed episodes, summaries keep the latest record of a
key, and recorded invalid actions are counted (each of these survived a planted bug once)."""

import pytest

import arenas
from arenas.agents import make_agent_factory
from arenas.rollout import RunConfig, run
from arenas.stats import summarize
from arenas.trajectory import Trajectory, read_trajectories
from tests.core.guess_arena import CrashingArena, GuessArena

arenas.register("guess", GuessArena)


class FlakyArena(GuessArena):
    """Crashes on every task ending in 3 while ``broken`` is set."""

    broken = True

    def first_observation(self, task):
        if FlakyArena.broken and task.id.endswith("3"):
            raise RuntimeError("transient")
        return super().first_observation(task)


arenas.register("guess-flaky", FlakyArena)


def test_resume_retries_the_episodes_that_failed(tmp_path):
    cfg = RunConfig(arena="guess-flaky", agent="oracle", n=20, split="train")
    FlakyArena.broken = True
    first = run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    assert first["errors"] == 2
    FlakyArena.broken = False
    second = run(cfg, make_agent_factory("oracle"), out=tmp_path, resume=True, progress=False)
    assert second["new_episodes"] == 2 and second["errors"] == 0 and second["success_rate"] == 1.0
    records = list(read_trajectories(tmp_path / "episodes.jsonl"))
    assert len(records) == 22 and sum(r.error is not None for r in records) == 2  # history kept on disk


def test_a_summary_keeps_only_the_latest_record_of_a_key():
    failed = Trajectory("a", 0, "t1", "test", 0, 0, "x", error="boom")
    retried = Trajectory("a", 0, "t1", "test", 0, 0, "x", reward=1.0, success=True)
    other = Trajectory("a", 0, "t2", "test", 0, 0, "x", reward=0.5)
    s = summarize([failed, other, retried])
    assert s["episodes"] == 2 and s["errors"] == 0 and s["mean_reward"] == pytest.approx(0.75)
    s = summarize([retried, other, failed])  # the other order: the failure is the latest
    assert s["errors"] == 1 and s["mean_reward"] == pytest.approx(0.25)


def test_invalid_actions_are_counted_per_turn():
    class Stubborn:
        """Two garbage replies, then the right guess."""

        def reset(self, context):
            self.n = 0
            self.secret_policy = context.policy("oracle")

        def act(self, observation):
            self.n += 1
            return "garbage" if self.n <= 2 else self.secret_policy(observation)

    import sys

    sys.modules[__name__].Stubborn = Stubborn
    spec = f"python:{__name__}:Stubborn"
    summary = run(RunConfig(arena="guess", agent=spec, n=4, split="test"), make_agent_factory(spec),
                  progress=False)
    assert summary["invalid_action_rate"] == pytest.approx(2 / 3) and summary["mean_turns"] == 3


def test_crashing_episodes_keep_their_error_and_count_as_zero(tmp_path):
    arenas.register("guess-crash", CrashingArena)
    s = run(RunConfig(arena="guess-crash", agent="oracle", n=20, split="train"), make_agent_factory("oracle"),
            out=tmp_path, progress=False)
    errors = [t for t in read_trajectories(tmp_path / "episodes.jsonl") if t.error]
    assert len(errors) == 2 and all(t.termination == "error" and t.reward == 0.0 for t in errors)
    assert s["mean_reward"] < s["mean_reward_finished"]
