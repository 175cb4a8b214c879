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


def test_structured_views_expose_action_masks_for_maskable_ppo():
    import gymnasium
    import numpy as np

    env = gymnasium.make("arenas/memory-v0", view="structured")
    _, info = env.reset(seed=0)
    mask = env.unwrapped.action_masks()
    assert mask.dtype == bool and mask.shape == (env.action_space.n,)
    assert np.array_equal(mask, np.asarray(info["action_mask"], dtype=bool)) and mask[0]
    env.close()


def test_text_spaces_print_briefly():
    import gymnasium

    env = gymnasium.make("arenas/sql-v0")
    assert len(repr(env.observation_space)) < 100 and len(repr(env.action_space)) < 100
    env.close()


def test_a_first_build_says_so(tmp_path, monkeypatch, capsys):
    from arenas.engines.cache import cached_build

    monkeypatch.setenv("ARENAS_HOME", str(tmp_path))
    cached_build("demo/v1", lambda folder: (folder / "x.txt").write_text("x"))
    err = capsys.readouterr().err
    assert "building demo/v1 (first use" in err and "built demo/v1 in" in err
    cached_build("demo/v1", lambda folder: None)
    assert capsys.readouterr().err == ""
