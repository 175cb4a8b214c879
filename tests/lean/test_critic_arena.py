"""Critic mode end to end: baselines through the rollout engine, gymnasium's checker, malformed
actions as feedback, the turn cap, re-scoring recorded episodes, and ACC/TPR/TNR."""

import json
import sys
from pathlib import Path

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agents import make_agent_factory
from arenas.config import ConfigError
from arenas.lean.baselines import heuristic_faithful
from arenas.rollout import RunConfig, run
from arenas.testing import check_arena
from arenas.tools import as_action
from arenas.verifiers.lean import critic_metrics


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def summary(agent, n=200, split="test", seed=0, **config):
    return run(RunConfig(arena="lean", agent=agent, n=n, split=split, seed=seed,
                         arena_config={"mode": "critic", **config}),
               make_agent_factory(agent), progress=False)


@pytest.fixture(scope="module")
def arena():
    with arenas.make("lean", mode="critic") as a:
        yield a


def test_oracle_scores_one_and_always_correct_scores_the_base_rate():
    oracle = summary("oracle")
    assert oracle["errors"] == 0 and oracle["episodes"] == 200
    assert oracle["mean_reward"] == pytest.approx(1.0)
    always = summary("policy:always_correct")
    assert always["mean_reward"] == pytest.approx(0.5) and always["errors"] == 0


def test_heuristic_beats_the_base_rate_and_random_does_not():
    heuristic = summary("policy:heuristic", split="dev", n=106)
    rand = summary("random", split="dev", n=106, seed=3)
    assert heuristic["mean_reward"] > 0.6
    assert 0.3 < rand["mean_reward"] < 0.7 and rand["errors"] == 0


def test_sampling_is_balanced_for_every_even_n(arena):
    for n, seed in ((2, 0), (50, 1), (200, 7), (1000, 2)):
        labels = [t.reference["faithful"] for t in arena.sample_tasks("test", n, seed)]
        assert sum(labels) * 2 == n


def test_gymnasium_check_env_passes():
    env = gymnasium.make("arenas/lean-v0", mode="critic")
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_malformed_actions_are_feedback(arena):
    task = arena.tasks("test")[0]
    arena.reset(task=task)
    r = arena.step("I think it is fine.")
    assert r.info["invalid_action"] and not r.done and "tool_call" in r.observation.messages[-1]["content"]
    r = arena.step(call("judge", faithful="maybe"))
    assert r.info["invalid_action"] and not r.done
    r = arena.step(call("submit_proof", code="x"))
    assert r.info["invalid_action"] and "unknown tool" in r.observation.messages[-1]["content"]
    r = arena.step(call("judge", faithful=task.reference["faithful"], reason="checked"))
    assert r.done and r.reward == 1.0 and r.info["reward_breakdown"]["passed"]


def test_the_turn_cap_scores_zero():
    with arenas.make("lean", mode="critic", max_turns=2) as a:
        a.reset(task=a.tasks("dev")[1])
        a.step("hmm")
        r = a.step("hmm")
        assert r.truncated and r.reward == 0.0 and r.info["reward_breakdown"]["total"] == 0.0


def test_rescore_reproduces_live_rewards(arena):
    for i, task in enumerate(arena.tasks("dev")[:20]):
        arena.reset(task=task, seed=i)
        policy = arena.policy("heuristic" if i % 2 else "random")
        turns, obs = [], None
        actions = [call("judge", faithful="nope")] if i % 3 == 0 else []
        while True:
            action = actions.pop() if actions else policy(obs)
            r = arena.step(action)
            turns.append({"action": as_action(action).to_dict(), "info": r.info, "reward": r.reward})
            obs = r.observation
            if r.done:
                break
        assert arena.rescore(task, turns).total == pytest.approx(sum(t["reward"] for t in turns))


def test_critic_metrics_match_their_definitions():
    m = critic_metrics([(True, True), (False, True), (False, False), (False, False), (None, False), (True, False)])
    assert m["acc"] == pytest.approx(3 / 6) and m["tpr"] == 0.5 and m["tnr"] == pytest.approx(2 / 4)


def test_heuristic_reasons_are_specific():
    ok, why = heuristic_faithful("Show that 2 + 3 = 5.", "theorem t : (2 : ℕ) + 3 = 7 := by sorry")
    assert not ok and "7" in why
    ok, _ = heuristic_faithful("Let x be a real number. Show that x^2 + 1 > 0.",
                               "theorem t (x : ℝ) : x ^ 2 + 1 > 0 := by sorry")
    assert ok


def test_unknown_mode_and_keys_are_config_errors():
    with pytest.raises(ConfigError, match="mode"):
        arenas.make("lean", mode="grade")
    with pytest.raises(ConfigError, match="valid keys"):
        arenas.make("lean", modes="critic")


@pytest.mark.parametrize("mode", ["critic", "formalize", "prove"])
def test_conformance_kit_passes_in_every_mode(mode):
    config = {"mode": mode}
    if mode != "critic":  # a REPL process that accepts everything: the plumbing, not Lean, is under test
        fake = Path(__file__).with_name("fake_repl.py")
        config.update(repl_command=f"{sys.executable} {fake} accept", timeout_s=10, header_timeout_s=10)
    report = check_arena("lean", config, episodes=3, split="dev")
    if mode != "prove":
        assert report["episodes"]["oracle"] == [1.0, 1.0, 1.0]
    assert report["gym_views"] == ["text"]
