"""A run around its episodes: validation before the first one, which tasks and seeds, arenas lent
and closed, how many episodes are in flight and in what order they come back, what the live bar
and ``run.json`` report."""

import json
import re
import threading
import time
from datetime import datetime

import pytest

import arenas
from arenas.agents import make_agent_factory
from arenas.config import ConfigError
from arenas.rollout import ArenaPool, EpisodeJob, RunConfig, iter_rollouts, plan_jobs, run, validate_run
from arenas.runinfo import config_hash
from tests.core.echo_agent import Echo, Tally
from tests.core.guess_arena import CrashingArena, GuessArena

arenas.register("guess", GuessArena)
arenas.register("guess-crash", CrashingArena)
arenas.register("tally", Tally)
SPEC = "python:tests.core:Agent"  # a label only: these tests hand run() their agent factory


class Counted(GuessArena):
    """Remembers every instance, the thread each episode ran on, and whether it was closed."""

    id = "guess-counted"
    made: list = []

    def __init__(self, **config):
        super().__init__(**config)
        self.closed = False
        self.threads = []
        Counted.made.append(self)

    def first_observation(self, task):
        self.threads.append(threading.get_ident())
        return super().first_observation(task)

    def close(self):
        self.closed = True


arenas.register("guess-counted", Counted)


@pytest.fixture(autouse=True)
def _fresh_counts():
    Counted.made = []


# ---- before the first episode ---------------------------------------------------------------
@pytest.mark.parametrize("field, value", [("n", 0), ("rollouts", -1), ("concurrency", 0)])
def test_counts_below_one_are_refused(field, value):
    cfg = RunConfig(arena="guess", agent="oracle", **{field: value})
    with pytest.raises(ConfigError, match=f"^{field} must be at least 1, got {value}$"):
        validate_run(cfg, GuessArena())


def test_a_policy_the_arena_lacks_is_named_with_the_ones_it_has():
    class NoPolicies(GuessArena):
        policies = ()

    class TwoPolicies(GuessArena):
        policies = ("oracle", "hint")

    with pytest.raises(ConfigError, match=r"^arena 'guess' offers no 'oracle' policy; its policies: none "
                                          r"\(or use --agent random\)$"):
        validate_run(RunConfig(arena="guess", agent="oracle"), NoPolicies())
    with pytest.raises(ConfigError, match="offers no 'greedy' policy; its policies: oracle, hint "):
        validate_run(RunConfig(arena="guess", agent="policy:greedy"), TwoPolicies())
    with pytest.raises(ConfigError, match="offers no 'oracle:extra' policy"):
        validate_run(RunConfig(arena="guess", agent="policy:oracle:extra"), GuessArena())
    validate_run(RunConfig(arena="guess", agent="python:pkg.policy:Agent"), NoPolicies())  # not a policy


def test_jobs_follow_the_run_seed():
    arena = GuessArena()
    cfg = RunConfig(arena="guess", agent="oracle", n=3, split="dev", seed=5, rollouts=2)
    tasks = arena.sample_tasks("dev", 3, 5)
    assert tasks != arena.sample_tasks("dev", 3, 0)
    assert [(j.task, j.seed, j.rollout) for j in plan_jobs(arena, cfg)] == \
        [(t, 5 + i, r) for i, t in enumerate(tasks) for r in range(2)]


# ---- arenas lent to episodes ------------------------------------------------------------------
def test_a_run_plays_on_the_arena_it_validated_and_closes_it():
    cfg = RunConfig(arena="guess-counted", agent="oracle", n=3, arena_config={"max_turns": 7})
    run(cfg, make_agent_factory("oracle"), progress=False)
    (arena,) = Counted.made
    assert len(arena.threads) == 3 and arena.max_turns == 7 and arena.closed


def test_a_sequential_run_plays_every_episode_on_the_callers_thread():
    run(RunConfig(arena="guess-counted", agent="oracle", n=3, concurrency=1), make_agent_factory("oracle"),
        progress=False)
    assert Counted.made[0].threads == [threading.get_ident()] * 3


def test_iter_rollouts_makes_its_arenas_from_the_config_and_closes_them():
    cfg = RunConfig(arena="guess-counted", agent="random", n=4, split="test", arena_config={"max_turns": 1})
    trajs = list(iter_rollouts(cfg, make_agent_factory("random")))
    assert len(trajs) == 4 and all(len(t.turns) == 1 and t.agent == "random" for t in trajs)
    assert Counted.made and all(a.closed and a.max_turns == 1 for a in Counted.made)


def test_a_callers_pool_is_used_and_left_open_and_broken_arenas_are_retired():
    class Fragile(Counted):
        def first_observation(self, task):
            if task.id.endswith("3"):
                raise RuntimeError("boom")
            return super().first_observation(task)

    pool = ArenaPool(Fragile)
    cfg = RunConfig(arena="unused", agent="oracle", n=20, split="train")
    trajs = list(iter_rollouts(cfg, make_agent_factory("oracle"), pool=pool))
    broken = [a for a in Counted.made if a.closed]
    assert sum(t.error is not None for t in trajs) == 2 and len(broken) == 2 and len(Counted.made) == 3
    assert pool.all == pool.idle and len(pool.idle) == 1 and not pool.idle[0].closed
    assert all(a not in pool.all for a in broken)
    pool.close()
    assert Counted.made[-1].closed


# ---- episodes in flight ---------------------------------------------------------------------------
def test_all_concurrency_episodes_run_at_once_however_many():
    everyone = threading.Barrier(40, timeout=10)

    class Together(Echo):
        def act(self, observation):
            everyone.wait()  # breaks unless all 40 episodes are in flight together
            return super().act(observation)

    cfg = RunConfig(arena="guess", agent=SPEC, n=40, split="train", concurrency=40, arena_config={"max_turns": 1})
    summary = run(cfg, Together, progress=False)
    assert summary["episodes"] == 40 and summary["errors"] == 0


def test_closing_the_stream_early_starts_no_more_episodes_than_were_in_flight():
    made = []

    def factory():
        made.append(Echo())
        return made[-1]

    cfg = RunConfig(arena="guess", agent=SPEC, concurrency=2, arena_config={"max_turns": 1})
    stream = iter_rollouts(cfg, factory, [EpisodeJob(t, 0, 0) for t in GuessArena().tasks("test")[:6]])
    next(stream)
    stream.close()
    assert len(made) == 2


def test_episodes_come_back_as_they_finish():
    tasks = GuessArena().tasks("test")[:3]

    class SlowOnFirst(Echo):
        def act(self, observation):
            if self.context.task_id == tasks[0].id:
                time.sleep(0.4)
            return super().act(observation)

    cfg = RunConfig(arena="guess", agent=SPEC, concurrency=2, arena_config={"max_turns": 1})
    jobs = [EpisodeJob(t, 0, 0) for t in tasks]
    order = [t.task_id for t in iter_rollouts(cfg, SlowOnFirst, jobs)]
    assert order == [tasks[1].id, tasks[2].id, tasks[0].id]


# ---- what a run reports -----------------------------------------------------------------------------
@pytest.fixture
def capsys(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the whole bar on one line
    return capsys


def _rates(bar):
    return [float(x) for x in re.findall(r"([\d.]+) ep/s · ([\d.]+) tok/s", bar)[-1]]


def test_the_live_bar_shows_progress_mean_reward_and_error_share(capsys):
    start = time.perf_counter()
    run(RunConfig(arena="guess-crash", agent="oracle", n=10, split="train"), make_agent_factory("oracle"))
    wall = time.perf_counter() - start
    bar = capsys.readouterr().err  # the bar is on stderr: stdout stays clean for results
    assert bar.startswith("guess-crash · oracle ") and " 10/10 " in bar
    assert "reward 1.100 · errors 20% · " in bar and "tok/s" not in bar  # errors are left out of the mean
    assert float(re.findall(r"([\d.]+) ep/s", bar)[-1]) >= 10 / wall - 0.05


def test_the_live_bar_counts_tokens_and_leaves_failed_episodes_out_of_the_mean(capsys):
    class Flaky(Echo):
        def act(self, observation):
            if self.n == 0 and self.context.task_id.endswith("3"):
                raise RuntimeError("lost the connection")
            return super().act(observation)

    summary = run(RunConfig(arena="tally", agent=SPEC, n=20, split="test"), lambda: Flaky(tokens=50))
    bar = capsys.readouterr().err  # the bar is on stderr: stdout stays clean for results
    assert summary["errors"] == 2 and " 20/20 " in bar
    assert f"reward {summary['mean_reward_finished']:.3f} · errors 10% · " in bar
    episodes_per_s, tokens_per_s = _rates(bar)
    assert tokens_per_s / episodes_per_s == pytest.approx(100, rel=0.02)


def test_the_live_bar_of_a_run_where_everything_failed(capsys):
    class CrashAll(GuessArena):
        def first_observation(self, task):
            raise RuntimeError("down")

    arenas.register("guess-down", CrashAll)
    run(RunConfig(arena="guess-down", agent="oracle", n=2), make_agent_factory("oracle"))
    assert "reward nan · errors 100% · " in capsys.readouterr().err


def test_a_quiet_run_prints_nothing(capsys):
    run(RunConfig(arena="guess", agent="oracle", n=2), make_agent_factory("oracle"), progress=False)
    assert capsys.readouterr().out == ""


def test_run_json_is_written_before_the_first_episode_and_completed_after_the_last(tmp_path):
    cfg = RunConfig(arena="guess", agent="oracle", n=3, split="test", agent_options={"cache": tmp_path})
    early = []

    def iterate(config, agent_factory, jobs, pool):
        early.append(json.loads((tmp_path / "run.json").read_text()))
        yield from iter_rollouts(config, agent_factory, jobs, pool=pool)

    start = time.perf_counter()
    summary = run(cfg, make_agent_factory("oracle"), out=tmp_path, progress=False, iterate=iterate)
    wall = time.perf_counter() - start
    (before,) = early
    assert before["identity_hash"] == config_hash(cfg.identity()) and "summary" not in before
    assert str(tmp_path) in before["config"]["agent_options"]["cache"]
    text = (tmp_path / "run.json").read_text()
    record = json.loads(text)
    assert text.startswith('{\n  "config": {\n    "')  # indented for reading
    finished, started = datetime.fromisoformat(record["finished"]), datetime.fromisoformat(record["started"])
    assert finished.tzinfo is not None and 0 <= (finished - started).total_seconds() <= wall + 1
    assert record["summary"]["episodes"] == 3 and 0 < summary["elapsed_s"] <= wall
    assert summary["episodes_per_s"] == pytest.approx(summary["new_episodes"] / summary["elapsed_s"])
