import json
import sys
import threading
import time

import pytest

import arenas
from arenas import registry
from arenas.agents import make_agent_factory
from arenas.rollout import RunConfig, run
from arenas.trajectory import read_trajectories
from tests.core.guess_arena import CrashingArena, GuessArena

arenas.register("guess", GuessArena)
arenas.register("guess-crash", CrashingArena)


def test_oracle_run_writes_trajectories_and_run_json(tmp_path):
    cfg = RunConfig(arena="guess", agent="oracle", n=12, split="dev", seed=1, rollouts=2, concurrency=4)
    summary = run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    assert summary["episodes"] == 24 and summary["errors"] == 0
    assert summary["success_rate"] == 1.0 and summary["mean_reward"] == pytest.approx(1.1)
    trajs = list(read_trajectories(tmp_path / "episodes.jsonl"))
    assert len({t.key for t in trajs}) == 24
    t = trajs[0]
    assert t.arena == "guess" and t.split == "dev" and t.turns[0].action["tool_calls"][0]["name"] == "guess"
    assert [tool["function"]["name"] for tool in t.tools] == ["guess"]
    assert t.breakdown["components"]["exact"] == 1.0 and t.termination == "submitted"
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["config"]["arena"] == "guess" and len(record["config_hash"]) == 16
    assert "numpy" in record["packages"] and record["hardware"]["cpus"] >= 1
    assert record["summary"]["episodes"] == 24


def test_failing_episode_is_recorded_and_run_continues(tmp_path):
    cfg = RunConfig(arena="guess-crash", agent="oracle", n=20, split="train", concurrency=3)
    summary = run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    trajs = list(read_trajectories(tmp_path / "episodes.jsonl"))
    errors = [t for t in trajs if t.error]
    assert len(trajs) == 20 and len(errors) == 2  # guess-3 and guess-13
    assert all("boom" in t.error for t in errors)
    assert summary["errors"] == 2 and summary["success_rate"] == 0.9  # errors count as failures
    finished = [t.reward for t in trajs if not t.error]
    assert summary["mean_reward"] == pytest.approx(sum(finished) / 20)  # ... and as reward 0
    assert summary["mean_reward_finished"] == pytest.approx(sum(finished) / 18)


def test_resume_skips_finished_keys_and_repairs_torn_line(tmp_path):
    cfg = RunConfig(arena="guess", agent="oracle", n=10, split="test")
    run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    path = tmp_path / "episodes.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:6]) + lines[6][:40])  # killed mid-write
    summary = run(cfg, make_agent_factory("oracle"), out=tmp_path, resume=True, progress=False)
    assert summary["new_episodes"] == 4 and summary["episodes"] == 10
    assert len({t.key for t in read_trajectories(path)}) == 10
    with pytest.raises(FileExistsError):
        run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False)
    other = RunConfig(arena="guess", agent="random", n=10, split="test")
    with pytest.raises(ValueError, match="cannot resume"):
        run(other, make_agent_factory("random"), out=tmp_path, resume=True, progress=False)


def test_random_agent_and_invalid_actions_counted(tmp_path):
    cfg = RunConfig(arena="guess", agent="random", n=10, split="test", seed=0)
    summary = run(cfg, make_agent_factory("random"), out=tmp_path, progress=False)
    assert summary["errors"] == 0 and 0 <= summary["success_rate"] < 1
    trajs = list(read_trajectories(tmp_path / "episodes.jsonl"))
    invalid = sum(bool(turn.info.get("invalid_action")) for t in trajs for turn in t.turns)
    assert summary["invalid_action_rate"] == pytest.approx(invalid / sum(len(t.turns) for t in trajs))


class TextAgent:
    """An external agent loaded by python:<module>:<Class>."""

    def reset(self, context):
        self.n = 0

    def act(self, observation):
        self.n += 1
        return "garbage" if self.n == 1 else '<tool_call>{"name": "guess", "arguments": {"number": 8}}</tool_call>'


def test_python_spec_and_concurrency_is_real(tmp_path):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    class Slow(TextAgent):
        def act(self, observation):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.02)
            with lock:
                state["now"] -= 1
            return super().act(observation)

    sys.modules[__name__].Slow = Slow
    cfg = RunConfig(arena="guess", agent=f"python:{__name__}:Slow", n=8, concurrency=4, split="test")
    summary = run(cfg, make_agent_factory(cfg.agent), progress=False)
    assert summary["errors"] == 0 and summary["invalid_action_rate"] > 0
    assert state["max"] > 1


def test_entry_point_registration(tmp_path, monkeypatch):
    dist = tmp_path / "extarena-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extarena\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[arenas.arenas]\nextguess = tests.core.guess_arena:GuessArena\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    assert "extguess" in arenas.list()
    assert isinstance(arenas.make("extguess"), GuessArena)


def test_unknown_specs_give_clear_errors():
    with pytest.raises(KeyError, match="unknown arena"):
        arenas.make("nope")
    with pytest.raises(ValueError, match="unknown agent spec"):
        make_agent_factory("bogus:thing")
    with pytest.raises(ValueError, match="offers no 'bogus' policy; its policies: oracle"):
        run(RunConfig(arena="guess", agent="bogus", n=2), make_agent_factory("bogus"), progress=False)


def test_arena_pool_reuses_arenas_across_calls_and_replaces_broken_ones():
    from arenas.rollout import ArenaPool, iter_rollouts

    made = []

    def make_arena():
        made.append(CrashingArena())
        return made[-1]

    pool = ArenaPool(make_arena)
    cfg = RunConfig(arena="guess-crash", agent="oracle", n=10, split="train", concurrency=2)
    broken = 0
    for _ in range(2):
        trajs = list(iter_rollouts(cfg, make_agent_factory("oracle"), pool=pool))
        errors = sum(t.error is not None for t in trajs)
        assert len(trajs) == 10 and errors == sum(t.task_id.endswith("3") for t in trajs) > 0
        broken += errors
    # two in flight at most, plus one replacement per broken episode
    assert len(made) <= 2 + broken and len(pool.all) <= 2
    pool.close()
    assert pool.all == [] and pool.idle == []
