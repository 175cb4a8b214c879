import gymnasium
from gymnasium.utils.env_checker import check_env

import arenas
from tests.core.guess_arena import GuessArena

arenas.register("guess", GuessArena)


def test_text_view_passes_check_env():
    env = gymnasium.make("arenas/guess-v0")
    check_env(env.unwrapped)
    obs, info = env.reset(seed=3)
    assert "Guess the number" in obs and info["messages"][0]["role"] == "user"
    obs, reward, terminated, truncated, info = env.step("not a tool call")
    assert info["invalid_action"] and "Invalid action" in obs


def test_structured_view_passes_check_env():
    env = gymnasium.make("arenas/guess-v0", view="structured")
    check_env(env.unwrapped)
    env.reset(seed=0)
    secret = env.unwrapped.arena.task.reference["secret"]
    _, reward, terminated, _, info = env.step(secret)
    assert terminated and reward > 1.0 and "action_mask" in info
