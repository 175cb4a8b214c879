"""Every registered built-in arena through the shared faces: gymnasium's checker on each view it
offers, `arenas info`, and a short run with the generic random agent (malformed actions included)."""

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agents import make_agent_factory
from arenas.rollout import RunConfig, run

BUILTIN = ["sql", "memory", "portfolio", "pokemon"]


def test_builtins_are_registered():
    assert set(BUILTIN) <= set(arenas.list())


@pytest.mark.parametrize("arena_id", BUILTIN)
def test_gymnasium_check_env_on_every_view(arena_id):
    env = gymnasium.make(f"arenas/{arena_id}-v0")
    check_env(env.unwrapped, skip_render_check=True)
    structured = env.unwrapped.arena.action_space is not None
    env.close()
    if structured:
        env = gymnasium.make(f"arenas/{arena_id}-v0", view="structured")
        check_env(env.unwrapped, skip_render_check=True)
        env.close()


@pytest.mark.parametrize("arena_id", BUILTIN)
def test_info_and_random_run(arena_id):
    with arenas.make(arena_id) as arena:
        info = arena.info()
    assert info["id"] == arena_id and info["reward_components"] and all(info["splits"].values())
    summary = run(RunConfig(arena=arena_id, agent="random", n=2, split="test", seed=0,
                            arena_config={"max_turns": 30}),
                  make_agent_factory("random"), progress=False)
    assert summary["errors"] == 0 and summary["episodes"] == 2
