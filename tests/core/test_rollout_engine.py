"""One episode end to end (``play_episode``): what the agent is handed, what the trajectory
records, timed agents, episode time budgets, records that cannot be written, the run folder's rules."""

import re
import threading
import time

import numpy as np
import pytest

import arenas
from arenas.agent import AgentStop
from arenas.agents import make_agent_factory
from arenas.rollout import EpisodeJob, RunConfig, play_episode, run
from arenas.trajectory import TrajectoryWriter, read_trajectories
from tests.core.echo_agent import Echo, Tally
from tests.core.guess_arena import CrashingArena, GuessArena

arenas.register("guess", GuessArena)
arenas.register("guess-crash", CrashingArena)
SPEC = "python:tests.core:Agent"  # a label only: these tests hand run() their agent factory


class Dice(GuessArena):
    """Opens with a number drawn from the episode's generator; its reset takes a while."""

    id = "dice"

    def first_observation(self, task):
        time.sleep(0.05)
        obs = super().first_observation(task)
        obs.messages[0]["content"] += f" Dice: {self.np_random.integers(10**9)}."
        return obs


class SlowOracle(GuessArena):
    def policy(self, name):
        oracle = super().policy(name)
        return lambda obs: time.sleep(0.3) or oracle(obs)


arenas.register("guess-slow-oracle", SlowOracle)


def test_play_episode_hands_the_agent_its_context_and_records_the_episode():
    contexts = []

    class Reader(Echo):
        def reset(self, context):
            contexts.append(context)
            super().reset(context)

        def act(self, observation):
            time.sleep(0.01)
            return super().act(observation)

    arena = Dice(max_turns=40)
    job = EpisodeJob(arena.tasks("dev")[3], seed=17, rollout=2)
    agents = []
    start = time.perf_counter()
    traj = play_episode(arena, lambda: agents.append(Reader()) or agents[-1], job, "python:m:Reader")
    wall = time.perf_counter() - start
    (ctx,) = contexts
    assert (ctx.arena_id, ctx.task_id, ctx.split, ctx.seed, ctx.rollout) == ("dice", "guess-103", "dev", 17, 2)
    assert ctx.tools == traj.tools == [t.to_openai() for t in arena.tools()] and ctx.action_space is arena.action_space
    assert ctx.policy("oracle") is not None
    assert (traj.arena, traj.arena_version, traj.task_id, traj.split, traj.seed, traj.rollout, traj.agent) == \
        ("dice", 0, "guess-103", "dev", 17, 2, "python:m:Reader")
    assert traj.turns[0].observation[0]["content"].endswith(f" Dice: {np.random.default_rng(17).integers(10**9)}.")
    assert traj.termination == "submitted" and traj.success and traj.error is None
    turns = traj.turns
    assert [t.index for t in turns] == list(range(10)) and [t.observation for t in turns] == agents[0].seen
    assert [t.reward for t in turns] == [0.0] * 9 + [traj.reward] and traj.reward == pytest.approx(1.01)
    assert traj.final_observation == [{"role": "tool", "tool_call_id": "call_0", "name": "guess", "content": "correct"}]
    assert all(t.env_s > 0 and t.agent_s >= 0.01 for t in turns)
    timings = traj.timings
    assert timings["agent_s"] == pytest.approx(sum(t.agent_s for t in turns)) and timings["agent_s"] >= 0.1
    assert timings["env_s"] - sum(t.env_s for t in turns) >= 0.05  # the reset counts too
    assert timings["agent_s"] + timings["env_s"] <= timings["total_s"] <= wall


def test_an_episode_past_its_time_budget_is_closed_on_the_step_that_overran_it():
    class Slow(Echo):
        def act(self, observation):
            time.sleep(0.1)
            return super().act(observation)

    arena = Tally(max_turns=40)
    traj = play_episode(arena, Slow, EpisodeJob(arena.tasks("test")[1], 0, 0), "s", episode_timeout_s=0.15)
    assert traj.termination == "episode_timeout" and len(traj.turns) == 2 and traj.turns[-1].action["text"]
    assert [t.reward for t in traj.turns] == [0.5, -1.5] and traj.reward == traj.breakdown["total"] == -1.0


def test_an_episode_within_its_time_budget_runs_to_its_end():
    arena = GuessArena(max_turns=40)
    traj = play_episode(arena, Echo, EpisodeJob(arena.tasks("test")[1], 0, 0), "e", episode_timeout_s=30.0)
    assert traj.termination == "submitted" and len(traj.turns) > 1


def test_play_episode_sets_no_time_limits_unless_asked():
    class Ponderer(Echo):
        def act(self, observation):
            if self.n < 0:
                time.sleep(1.05)  # past one second, the shortest limit anyone would set
            return super().act(observation)

    arena = GuessArena(max_turns=40)
    traj = play_episode(arena, Ponderer, EpisodeJob(arena.tasks("test")[1], 0, 0), "python:m:Ponderer")
    assert traj.termination == "submitted" and len(traj.turns) > 1


def test_baseline_agents_are_trusted_and_not_timed():
    cfg = RunConfig(arena="guess-slow-oracle", agent="oracle", n=1, agent_timeout_s=0.1)
    assert run(cfg, make_agent_factory("oracle"), progress=False)["terminations"] == {"submitted": 1}


def test_a_timed_agent_sees_every_observation_and_finishes_normally():
    agents = []

    def factory():
        agents.append(Echo())
        return agents[-1]

    cfg = RunConfig(arena="guess", agent=SPEC, n=2, split="test", agent_timeout_s=5.0,
                    arena_config={"max_turns": 30})
    summary = run(cfg, factory, progress=False)
    assert summary["terminations"] == {"submitted": 2} and summary["errors"] == 0
    assert all(a.seen[0] == [{"role": "user", "content": "Guess the number in [0, 16)."}] for a in agents)
    assert all(len(a.seen) > 1 and a.seen[1][0]["content"] in ("higher", "lower") for a in agents)


def test_an_agent_error_under_a_time_limit_is_the_episode_error(tmp_path):
    class Broken(Echo):
        def act(self, observation):
            raise KeyError("no such weight")

    run(RunConfig(arena="guess", agent=SPEC, n=1, agent_timeout_s=5.0), Broken, out=tmp_path, progress=False)
    (traj,) = read_trajectories(tmp_path / "episodes.jsonl")
    assert traj.termination == "error" and traj.error.startswith("KeyError: 'no such weight'")


def test_why_an_agent_stopped_is_kept_in_the_trajectory(tmp_path):
    class Full(Echo):
        def act(self, observation):
            raise AgentStop("context_exhausted", "the prompt no longer fits")

    threads = []

    class Slow(Echo):
        def act(self, observation):
            threads.append(threading.current_thread())
            time.sleep(1.0)

    run(RunConfig(arena="guess", agent=SPEC, n=1), Full, out=tmp_path / "full", progress=False)
    run(RunConfig(arena="guess", agent=SPEC, n=1, agent_timeout_s=0.25), Slow, out=tmp_path / "slow", progress=False)
    (full,) = read_trajectories(tmp_path / "full" / "episodes.jsonl")
    (slow,) = read_trajectories(tmp_path / "slow" / "episodes.jsonl")
    assert full.turns[-1].action == {"text": "", "ended": True, "stop_message": "the prompt no longer fits"}
    assert slow.turns[-1].action["stop_message"] == "act() did not return within 0.25 s"
    assert (full.termination, slow.termination) == ("context_exhausted", "agent_timeout")
    assert threads[0].daemon  # the abandoned call cannot hold up the interpreter's exit


def test_an_episode_that_cannot_be_recorded_becomes_an_error_record(tmp_path, monkeypatch):
    write = TrajectoryWriter.write

    def full_disk_for_one_task(self, traj):
        if traj.key == "guess-213|5|1" and traj.error is None:
            raise OSError(28, "No space left on device")
        write(self, traj)

    monkeypatch.setattr(TrajectoryWriter, "write", full_disk_for_one_task)
    cfg = RunConfig(arena="guess", agent="oracle", n=3, split="test", rollouts=2, seed=4)
    summary = run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    assert summary["episodes"] == 6 and summary["errors"] == 1
    failed = [t for t in read_trajectories(tmp_path / "episodes.jsonl") if t.error]
    assert len(failed) == 1
    (t,) = failed
    assert (t.arena, t.arena_version, t.task_id, t.split, t.agent) == ("guess", 0, "guess-213", "test", "oracle")
    assert (t.key, t.seed, t.rollout, t.turns) == ("guess-213|5|1", 5, 1, [])
    assert t.termination == "error" and set(t.timings) == {"total_s", "agent_s", "env_s"}
    assert t.error == "recording the episode failed: OSError: [Errno 28] No space left on device"
    monkeypatch.undo()
    resumed = run(cfg, make_agent_factory("oracle"), out=tmp_path, resume=True, progress=False)
    assert resumed["new_episodes"] == 1  # the unrecorded episode is played again
    assert resumed["episodes_per_s"] == pytest.approx(1 / resumed["elapsed_s"])  # this run's episodes only


def test_the_run_folder_is_created_with_its_parents_and_guarded(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    cfg = RunConfig(arena="guess", agent="oracle", n=1)
    run(cfg, make_agent_factory("oracle"), out=out, progress=False)
    assert (out / "episodes.jsonl").exists() and (out / "run.json").exists()
    with pytest.raises(FileExistsError, match=r"episodes.jsonl exists: pass resume=True \(--resume\) or choose "
                                              r"another --out$"):
        run(cfg, make_agent_factory("oracle"), out=out, progress=False)
    with pytest.raises(ValueError, match=r"was written by a run with a different arena, agent, split, seed, "
                                         r"rollouts or configuration$"):
        run(RunConfig(arena="guess", agent="oracle", n=1, seed=9), make_agent_factory("oracle"), out=out,
            resume=True, progress=False)


class Recorder(Echo):
    def __init__(self, record):
        super().__init__()
        self.record = record

    def episode_record(self):
        if isinstance(self.record, Exception):
            raise self.record
        return self.record


@pytest.mark.parametrize("record, tokens, counts, meta", [
    ({"tokens": {"ids": [1, 2]}, "token_counts": {"prompt": 3}, "model": "m"}, {"ids": [1, 2]}, {"prompt": 3},
     {"model": "m"}),
    (None, None, {}, {}),
    ({"token_counts": None}, None, {}, {}),
    (RuntimeError("gone"), None, {}, {"episode_record_error": "RuntimeError('gone')"}),
])
def test_what_the_agent_records_lands_in_the_trajectory(record, tokens, counts, meta):
    arena = GuessArena(max_turns=1)
    traj = play_episode(arena, lambda: Recorder(record), EpisodeJob(arena.tasks("test")[0], 0, 0), "r")
    assert (traj.tokens, traj.token_counts, traj.meta) == (tokens, counts, meta) and traj.error is None


def test_an_agent_that_records_nothing_leaves_the_record_empty():
    class Plain:
        def reset(self, context):
            self.secret = context.policy("oracle")

        def act(self, observation):
            return self.secret(observation)

    arena = GuessArena()
    traj = play_episode(arena, Plain, EpisodeJob(arena.tasks("test")[0], 0, 0), "p")
    assert traj.success and (traj.tokens, traj.token_counts, traj.meta) == (None, {}, {})


def test_an_agent_that_cannot_be_made_is_the_episode_error():
    def factory():
        raise OSError("no GPU")

    arena = GuessArena()
    traj = play_episode(arena, factory, EpisodeJob(arena.tasks("test")[0], 0, 0), "r")
    assert traj.error.startswith("OSError: no GPU\n") and traj.termination == "error" and traj.meta == {}


def test_a_non_finite_reward_is_an_episode_error():
    class NanPay(GuessArena):
        def _step(self, action):
            self.add_reward(float("nan"))
            return super()._step(action)

    arena = NanPay()
    traj = play_episode(arena, Echo, EpisodeJob(arena.tasks("test")[0], 0, 0), "e")
    assert traj.error.startswith("ValueError: the arena paid a non-finite reward nan on turn 1\n")
    assert len(traj.turns) == 1 and traj.termination == "error"


def test_an_error_record_keeps_a_short_traceback():
    class Deep(GuessArena):
        def first_observation(self, task, depth=20):
            if depth:
                return self.first_observation(task, depth - 1)
            raise RuntimeError("deep down")

    arena = Deep()
    traj = play_episode(arena, Echo, EpisodeJob(arena.tasks("test")[0], 0, 0), "e")
    frames = traj.error.count('  File "') + sum(map(int, re.findall(r"repeated (\d+) more time", traj.error)))
    assert traj.error.startswith("RuntimeError: deep down\nTraceback") and frames == 8


def test_an_arena_that_names_no_ending_records_none():
    class Terse(GuessArena):
        def step(self, action):
            self.done = True
            return arenas.StepResult(arenas.Observation([]), 1.0, True, False, {})

    arena = Terse()
    traj = play_episode(arena, Echo, EpisodeJob(arena.tasks("test")[0], 0, 0), "e")
    assert (traj.termination, traj.breakdown, traj.success, traj.reward) == ("", None, False, 1.0)


def test_an_action_with_non_string_text_is_an_invalid_action_not_an_error():
    class NumberText(Echo):
        def act(self, observation):
            return arenas.Action(text=5) if self.n < 0 and not setattr(self, "n", 0) else super().act(observation)

    arena = GuessArena(max_turns=40)
    traj = play_episode(arena, NumberText, EpisodeJob(arena.tasks("dev")[0], seed=0, rollout=0), SPEC)
    assert traj.error is None and traj.termination == "submitted"
    info = traj.turns[0].info
    assert info["invalid_action"] and info["invalid_reason"] == "action text must be a string, got int"


def test_an_action_with_a_lone_surrogate_is_recorded_and_read_back(tmp_path):
    class Surrogate(Echo):
        def act(self, observation):
            return "\ud800" if self.n < 0 and not setattr(self, "n", 0) else super().act(observation)

    arena = GuessArena(max_turns=40)
    traj = play_episode(arena, Surrogate, EpisodeJob(arena.tasks("dev")[0], seed=0, rollout=0), SPEC)
    writer = TrajectoryWriter(tmp_path / "episodes.jsonl")
    writer.write(traj)
    writer.close()
    (back,) = read_trajectories(tmp_path / "episodes.jsonl")
    assert back.error is None and back.turns[0].action["text"] == "\ud800"
    assert back.reward == traj.reward
