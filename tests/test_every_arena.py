"""Every discovered arena through the conformance kit and the shared faces: deterministic tasks,
the fuzz corpus, oracle and random episodes re-scored from their record, the turn cap, gymnasium's
checker on every view, `arenas info`, and a run through the rollout engine."""

import pytest

import arenas
from arenas.agents import make_agent_factory
from arenas.registry import builtin_manifests
from arenas.rollout import RunConfig, run
from arenas.testing import check_arena

ARENAS = sorted(path.parent.name for path in builtin_manifests())


def test_the_built_in_arenas_are_discovered():
    assert {"sql", "memory", "portfolio", "pokemon"} <= set(ARENAS)


@pytest.mark.parametrize("arena_id", ARENAS)
def test_conformance_kit(arena_id):
    report = check_arena(arena_id)
    assert report["gym_views"][0] == "text"


@pytest.mark.parametrize("arena_id", ARENAS)
def test_info_and_random_run(arena_id):
    with arenas.make(arena_id) as arena:
        info = arena.info()
    assert info["id"] == arena_id and info["reward_components"] and all(info["splits"].values())
    assert {row["name"] for row in info["config"]} >= {"max_turns", "split"}
    assert all(row["doc"] for row in info["config"]), "every config field is documented"
    summary = run(RunConfig(arena=arena_id, agent="random", n=2, split="test", seed=0,
                            arena_config={"max_turns": 30}),
                  make_agent_factory("random"), progress=False)
    assert summary["errors"] == 0 and summary["episodes"] == 2
