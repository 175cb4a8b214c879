"""Runs that must neither die nor lie: non-finite numbers, errors in the headline, fail-fast
validation, one writer per run folder, torn lines, secrets in run.json, time and size limits,
and user errors answered in one line."""

import json
import subprocess
import sys
import time

import pytest

import arenas
from arenas.agent import AgentStop
from arenas.agents import make_agent_factory
from arenas.config import ConfigError
from arenas.rollout import RunConfig, run
from arenas.trajectory import (
    MAX_LINE_BYTES,
    RunLockedError,
    Trajectory,
    TrajectoryWriter,
    Turn,
    read_trajectories,
)
from tests.core.guess_arena import GuessArena

arenas.register("guess", GuessArena)
GUESS = '<tool_call>{"name": "guess", "arguments": {"number": 8}}</tool_call>'


class NanAgent:
    """Answers with a NaN (a structured action) and records NaN/inf numbers in its meta."""

    def reset(self, context):
        pass

    def act(self, observation):
        return arenas.Action(text=GUESS, structured=float("nan"),
                             meta={"logprobs": [float("nan"), float("-inf")], "latency": float("inf")})


class SleepyAgent:
    def reset(self, context):
        pass

    def act(self, observation):
        time.sleep(3)
        return GUESS


class FullContextAgent:
    def reset(self, context):
        pass

    def act(self, observation):
        raise AgentStop("context_exhausted", "the prompt no longer fits")


def _register(cls):
    setattr(sys.modules[__name__], cls.__name__, cls)
    return f"python:{__name__}:{cls.__name__}"


def test_non_finite_numbers_are_recorded_not_fatal(tmp_path):
    spec = _register(NanAgent)
    summary = run(RunConfig(arena="guess", agent=spec, n=3, split="test"), make_agent_factory(spec), out=tmp_path,
                  progress=False)
    assert summary["episodes"] == 3 and summary["errors"] == 0
    trajs = list(read_trajectories(tmp_path / "episodes.jsonl"))
    assert len(trajs) == 3
    meta = trajs[0].turns[0].action["meta"]
    assert str(meta["logprobs"][0]) == "nan" and meta["logprobs"][1] == float("-inf")
    json.loads((tmp_path / "run.json").read_text())  # strict JSON


def test_portfolio_nan_weights_are_repaired_and_recorded(tmp_path):
    import numpy as np

    class NanWeights:
        def reset(self, context):
            pass

        def act(self, observation):
            return arenas.Action(structured=np.full(21, np.nan))

    spec = _register(NanWeights)
    summary = run(RunConfig(arena="portfolio", agent=spec, n=2, split="test",
                            arena_config={"rebalance": "monthly", "horizon_days": 63}),
                  make_agent_factory(spec), out=tmp_path, progress=False)
    assert summary["errors"] == 0 and summary["invalid_action_rate"] == 1.0
    assert len(list(read_trajectories(tmp_path / "episodes.jsonl"))) == 2


def test_every_episode_failing_exits_non_zero_and_counts_as_zero(tmp_path):
    from typer.testing import CliRunner

    from arenas.cli import app

    r = CliRunner().invoke(app, ["run", "guess-crash-all", "--agent", "random", "-n", "3", "--out",
                                 str(tmp_path), "--quiet"])
    assert r.exit_code == 1 and "every episode failed" in r.output
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["summary"]["errors"] == 3 and record["summary"]["mean_reward"] == 0.0


class CrashAll(GuessArena):
    def first_observation(self, task):
        raise RuntimeError("broken on purpose")


arenas.register("guess-crash-all", CrashAll)


@pytest.mark.parametrize("agent, message", [
    ("heuristic", "offers no 'heuristic' policy"),
    ("policy:nope", "offers no 'nope' policy"),
])
def test_unknown_policies_fail_before_the_first_episode(tmp_path, agent, message):
    with pytest.raises(ConfigError, match=message):
        run(RunConfig(arena="guess", agent=agent, n=2), make_agent_factory(agent), out=tmp_path, progress=False)
    assert not (tmp_path / "episodes.jsonl").exists()


def test_unknown_split_and_config_keys_are_user_errors():
    with pytest.raises(ConfigError, match="splits: train, dev, test"):
        run(RunConfig(arena="guess", agent="random", n=2, split="validation"), make_agent_factory("random"),
            progress=False)
    with pytest.raises(ConfigError, match="unknown config key nosuch .*valid keys: .*max_turns"):
        arenas.make("guess", nosuch=1)
    with pytest.raises(ConfigError, match="must be int"):
        arenas.make("guess", max_turns="many")


def test_unreachable_model_server_fails_fast():
    pytest.importorskip("httpx")
    factory = make_agent_factory("openai:m", base_url="http://127.0.0.1:9/v1")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="cannot reach the model server"):
        run(RunConfig(arena="guess", agent="openai:m", n=2), factory, progress=False)
    assert time.perf_counter() - start < 15


def test_a_second_writer_on_the_same_run_folder_is_refused(tmp_path):
    first = TrajectoryWriter(tmp_path / "episodes.jsonl")
    try:
        with pytest.raises(RunLockedError, match="another run"):
            run(RunConfig(arena="guess", agent="oracle", n=2), make_agent_factory("oracle"), out=tmp_path,
                progress=False)
    finally:
        first.close()
    summary = run(RunConfig(arena="guess", agent="oracle", n=2), make_agent_factory("oracle"), out=tmp_path,
                  progress=False)
    assert summary["episodes"] == 2


def test_a_torn_last_line_is_cut_on_resume(tmp_path):
    cfg = RunConfig(arena="guess", agent="oracle", n=4, split="test")
    run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    path = tmp_path / "episodes.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][:50])
    run(cfg, make_agent_factory("oracle"), out=tmp_path, resume=True, progress=False)
    text = path.read_text()
    assert all(json.loads(line) for line in text.splitlines())  # no torn fragment left in the file
    assert len(text.splitlines()) == 4


def test_credentials_are_redacted_in_run_json(tmp_path):
    cfg = RunConfig(arena="guess", agent="oracle", n=1, agent_options={"api_key": "sk-secret"},
                    arena_config={})
    cfg.arena_config = {}
    record_dir = tmp_path / "r"
    run(cfg, make_agent_factory("oracle"), out=record_dir, progress=False)
    text = (record_dir / "run.json").read_text()
    assert "sk-secret" not in text
    from arenas.runinfo import redact

    assert redact({"db_url": "postgresql+psycopg://reader:pw@127.0.0.1:5432/{db}"}) == \
        {"db_url": "postgresql+psycopg://reader:***@127.0.0.1:5432/{db}"}


def test_an_agent_that_overruns_its_time_ends_as_timed_out_not_as_a_success(tmp_path):
    spec = _register(SleepyAgent)
    start = time.perf_counter()
    summary = run(RunConfig(arena="guess", agent=spec, n=2, agent_timeout_s=0.3), make_agent_factory(spec),
                  out=tmp_path, progress=False)
    assert time.perf_counter() - start < 2.5
    assert summary["terminations"] == {"agent_timeout": 2} and summary["success_rate"] == 0.0


def test_an_episode_over_its_time_budget_is_ended_and_scored():
    class SlowGuesser:
        def reset(self, context):
            self.n = -1

        def act(self, observation):
            time.sleep(0.05)
            self.n += 1
            return f'<tool_call>{{"name": "guess", "arguments": {{"number": {self.n % 16}}}}}</tool_call>'

    spec = _register(SlowGuesser)
    summary = run(RunConfig(arena="guess", agent=spec, n=2, split="test", episode_timeout_s=0.12,
                            arena_config={"max_turns": 50}), make_agent_factory(spec), progress=False)
    assert summary["errors"] == 0 and set(summary["terminations"]) <= {"episode_timeout", "submitted"}
    assert "episode_timeout" in summary["terminations"]


def test_an_agent_can_end_its_episode_when_its_context_is_full():
    spec = _register(FullContextAgent)
    summary = run(RunConfig(arena="guess", agent=spec, n=2), make_agent_factory(spec), progress=False)
    assert summary["errors"] == 0 and summary["terminations"] == {"context_exhausted": 2}


def test_an_oversized_trajectory_line_is_shrunk():
    huge = "x" * (MAX_LINE_BYTES // 4)
    traj = Trajectory("a", 0, "t", "test", 0, 0, "agent",
                      turns=[Turn(i, [{"role": "user", "content": huge}], {"text": huge}, 0.0) for i in range(6)])
    line = traj.to_json()
    assert len(line) < MAX_LINE_BYTES and json.loads(line)["meta"]["shrunk"] is True


@pytest.mark.parametrize("args, message", [
    (["run", "sql", "-c", "nosuch=1", "-n", "1"], "unknown config key nosuch"),
    (["run", "nosuch"], "unknown arena 'nosuch'"),
    (["run", "sql", "--agent", "heuristic", "-n", "1"], "offers no 'heuristic' policy"),
    (["run", "sql", "--agent", "bogus:x", "-n", "1"], "unknown agent spec"),
    (["run", "sql", "--agent", "python:arenas.baseline_agents:RandomAgent", "-o", "nope=1"], "takes no option nope"),
])
def test_user_errors_print_one_line_and_exit_2(tmp_path, args, message):
    out = subprocess.run([sys.executable, "-m", "arenas.cli", *args], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().count("\n") == 0 and message in out.stderr and "Traceback" not in out.stderr


def test_debug_shows_the_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "arenas.cli", "--debug", "run", "nosuch"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_version():
    out = subprocess.run([sys.executable, "-m", "arenas.cli", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"arenas {arenas.__version__}"
