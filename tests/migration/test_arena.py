"""The arena end to end: baselines through the rollout engine, tools, rescoring, conformance."""

import json

import pytest

import arenas
from arenas.agents import make_agent_factory
from arenas.migration.tasks import load_tasks
from arenas.rollout import RunConfig, run
from arenas.tools import as_action


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


@pytest.fixture(scope="module")
def arena(built):
    a = arenas.make("migration")
    yield a
    a.close()


@pytest.mark.parametrize("agent,expected", [("oracle", 1.0), ("policy:identity", 0.0)])
def test_oracle_one_identity_zero_with_four_concurrent_episodes(built, agent, expected):
    n = len(load_tasks("test"))
    summary = run(RunConfig(arena="migration", agent=agent, n=n, split="test", concurrency=4),
                  make_agent_factory(agent), progress=False)
    assert summary["errors"] == 0 and summary["mean_reward"] == pytest.approx(expected)


def test_heuristic_gets_partial_credit(built):
    summary = run(RunConfig(arena="migration", agent="policy:heuristic", n=40,
                            split="train", concurrency=2), make_agent_factory("policy:heuristic"), progress=False)
    assert 0.1 < summary["mean_reward"] < 0.9


def test_tools_use_the_new_version(arena):
    task = next(t for t in load_tasks("test"))
    obs = arena.reset(task=task)
    assert task.prompt["code"] in obs.messages[1]["content"] and "assert " in obs.messages[1]["content"]
    out = arena.step(call("run_tests")).observation.messages[0]["content"]
    assert out.startswith("0/2") or "FAIL" in out
    out = arena.step(call("run_tests", code=task.reference["code"])).observation.messages[0]["content"]
    assert out.startswith("2/2 public tests passed")
    out = arena.step(call("run_python", code=f"import {task.prompt['module']} as m\nprint(m.__version__)\n"
                          "import solution\nprint('loaded', solution.__name__)")).observation.messages[0]["content"]
    assert task.prompt["new_version"] in out and "loaded solution" in out
    out = arena.step(call("show_doc", symbol=f"{task.prompt['module']}.__version__")).observation.messages[0]["content"]
    assert task.prompt["module"] in out
    r = arena.step(call("show_doc", symbol="os; rm -rf /"))
    assert "error" in r.observation.messages[0]["content"]
    r = arena.step(call("submit", code=task.reference["code"]))
    assert r.terminated and r.info["reward_breakdown"]["total"] == 1.0


def test_malformed_action_is_feedback(arena):
    arena.reset(task=load_tasks("dev")[0])
    r = arena.step("no tool call here")
    assert r.info["invalid_action"] and not r.done
    r = arena.step(call("submit"))
    assert r.info["invalid_action"] and not r.done


def test_rescore_matches_live_episode(arena):
    task = load_tasks("dev")[1]
    arena.reset(task=task)
    policy = arena.policy("heuristic")
    action = policy(None)
    r = arena.step(action)
    turns = [{"action": as_action(action).to_dict(), "info": r.info, "reward": r.reward}]
    assert arena.rescore(task, turns).total == pytest.approx(r.info["reward_breakdown"]["total"])


def test_conformance_kit(built):
    from arenas.testing import check_arena

    check_arena("migration", {"max_turns": 4}, episodes=2)


def test_unknown_config_key_is_an_error():
    with pytest.raises(ValueError, match="valid keys"):
        arenas.make("migration", bogus=1)


def test_backend_choice(built):
    from arenas.engines.sandbox import docker_client

    assert arenas.make("migration", backend="auto").backend in ("subprocess", "docker")
    if docker_client() is None:
        with pytest.raises(ValueError, match="unavailable"):
            arenas.make("migration", backend="docker")
    with pytest.raises(ValueError, match="backend"):
        arenas.make("migration", backend="vm")
