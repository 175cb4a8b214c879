"""Rollouts on a local Ray cluster: the same episodes and records as a local run, resume, and
workers that die (replaced, the episode retried once, then recorded as an error)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from arenas.agent import EpisodeContext
from arenas.agent_spec import make_agent_factory
from arenas.baseline_agents import PolicyAgent
from arenas.rollout import RunConfig, run

if not os.environ.get("ARENAS_TEST_RAY"):
    # Ray's cluster listens on the machine's network address, not only on 127.0.0.1: opt in
    pytest.skip("Ray tests run with ARENAS_TEST_RAY=1", allow_module_level=True)
ray = pytest.importorskip("ray")

from arenas.distributed import ray_iterator  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _records(out: Path) -> list[tuple]:
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    return sorted((r["task_id"], r["seed"], r["rollout"], r["error"], r["reward"], [t["reward"] for t in r["turns"]],
                   json.dumps(r["breakdown"], sort_keys=True)) for r in rows)


def test_ray_run_matches_the_local_run_and_resumes(tmp_path):
    config = RunConfig(arena="memory", agent="heuristic", n=12, concurrency=2)
    factory = make_agent_factory("heuristic")
    run(config, factory, out=tmp_path / "local", progress=False)
    first = run(RunConfig(**{**config.__dict__, "n": 5}), factory, out=tmp_path / "ray", progress=False,
                iterate=ray_iterator())
    assert first["new_episodes"] == 5
    summary = run(config, factory, out=tmp_path / "ray", resume=True, progress=False, iterate=ray_iterator())
    assert summary["new_episodes"] == 7 and summary["errors"] == 0
    assert _records(tmp_path / "ray") == _records(tmp_path / "local")
    record = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert record["summary"]["episodes"] == 12


class DyingAgent:
    """The heuristic, except that it kills its worker process on chosen tasks: once (a marker
    file remembers) or every time."""

    def __init__(self, marker_dir: str, once: str, always: str):
        self.marker_dir, self.once, self.always = marker_dir, once, always
        self.inner = PolicyAgent("heuristic")

    def reset(self, context: EpisodeContext) -> None:
        marker = Path(self.marker_dir) / context.task_id.replace("/", "_")
        if context.task_id == self.always or (context.task_id == self.once and not marker.exists()):
            marker.touch()
            os._exit(1)
        self.inner.reset(context)

    def act(self, observation):
        return self.inner.act(observation)


def test_a_dead_worker_is_replaced_and_its_episode_retried_once(tmp_path):
    from arenas.registry import make

    config = RunConfig(arena="memory", agent="heuristic", n=6, concurrency=2)
    with make("memory") as arena:
        tasks = [t.id for t in arena.sample_tasks("test", 6, 0)]
    once, always = tasks[1], tasks[3]
    factory = lambda: DyingAgent(str(tmp_path), once, always)  # noqa: E731
    summary = run(config, factory, out=tmp_path / "ray", progress=False, iterate=ray_iterator())
    rows = {r["task_id"]: r for r in map(json.loads, (tmp_path / "ray" / "episodes.jsonl").read_text().splitlines())}
    assert len(rows) == 6 and summary["errors"] == 1
    assert rows[once]["error"] is None and rows[once]["turns"]
    assert "died twice" in rows[always]["error"]
