"""MemoryArena: actions in both views, rewards that sum to the verifier's total, policies, tasks,
and the Gymnasium faces."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agents import EpisodeContext, make_agent_factory
from arenas.config import ConfigError
from arenas.memory.game import MALFORMED, SLOW
from arenas.types import Action


def _arena(**config):
    config.setdefault("workloads", ["gpt_tiny"])
    config.setdefault("profiles", ["tpu"])
    config.setdefault("capacities", ["medium"])
    return arenas.make("memory", **config)


def _play(arena, act, task=None, seed=0):
    obs = arena.reset(task or arena.tasks("train")[0], seed=seed)
    rewards = []
    while True:
        result = arena.step(act(obs))
        rewards.append(result.reward)
        obs = result.observation
        if result.done:
            return result, rewards


def test_first_observation_explains_the_game():
    a = _arena()
    obs = a.reset(a.tasks("train")[0], seed=0)
    assert obs.messages[0]["role"] == "system" and "fast@<offset>" in obs.messages[0]["content"]
    assert "Buffer" in obs.messages[-1]["content"] and "Offered:" in obs.messages[-1]["content"]


def test_config_accepts_comma_separated_names():
    a = arenas.make("memory", workloads="gpt_tiny,unet_small", profiles="gpu", capacities="tight,loose")
    assert sorted(t.id for t in a.tasks("train")) == [
        "gpt_tiny/gpu/loose", "gpt_tiny/gpu/tight", "unet_small/gpu/loose", "unet_small/gpu/tight"]


@pytest.mark.parametrize("split_by", ["workload", "family", "capacity"])
def test_splits_are_disjoint_in_every_mode_even_with_a_workload_list(split_by):
    a = arenas.make("memory", split_by=split_by)
    ids = {s: {t.id for t in a.tasks(s)} for s in a.splits}
    assert all(ids.values())
    assert not ids["train"] & ids["dev"] and not ids["train"] & ids["test"] and not ids["dev"] & ids["test"]
    listed = arenas.make("memory", split_by=split_by, workloads="gpt_tiny,unet,vit_tiny,mixer")
    for s in a.splits:  # a list narrows each split to its own tasks, never adds others
        assert {t.id for t in listed.tasks(s)} <= ids[s]
    held = {s: {t.meta["family"] for t in a.tasks(s)} for s in a.splits}
    tiers = {s: {t.prompt["capacity_tier"] for t in a.tasks(s)} for s in a.splits}
    if split_by == "family":
        assert held["train"] >= {"gpt", "bert", "mlp"} and held["test"] >= {"resnet", "unet", "mixer"}
        assert not held["train"] & (held["dev"] | held["test"])
    if split_by == "capacity":
        assert "tight" not in tiers["train"] and tiers["test"] == tiers["dev"] == {"tight"}


def test_unknown_split_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="split_by"):
        arenas.make("memory", split_by="model")


def _to_first_offer(arena):
    obs = arena.reset(arena.tasks("train")[0], seed=0)
    while not len(arena.offered()):
        obs = arena.step("slow").observation
    return obs


def test_text_actions_are_parsed_leniently_and_never_raise():
    a = _arena(capacities=["loose"])
    obs = _to_first_offer(a)
    assert "Offered: fast@" in obs.text and a.invalid_actions == 0
    offered = int(a.offered()[0])
    r = a.step(f"I think fast@{offered:,} is best, not slow. fast@{offered:,}")
    assert r.info["request"] == offered and not r.info.get("invalid_action") and r.info["saved_s"] > 0
    r = a.step("Final answer: SLOW")
    assert r.info["request"] == SLOW and not r.info.get("invalid_action")
    for bad in ["", "put it somewhere", "fast@-256", {"content": None}, None, Action(structured="x")]:
        r = a.step(bad)
        assert r.info["invalid_action"] and r.info["request"] in (MALFORMED, -256)
        assert "Invalid action" in r.observation.text and r.reward < 0
    while not len(a.offered()):
        a.step("slow")
    r = a.step(f"fast@{a.game.capacity}")
    assert r.info["invalid_action"] and "not legal" in r.info["invalid_reason"]
    assert a.invalid_actions == 7 and a.game.invalid == 7


def test_structured_actions_follow_the_mask():
    a = _arena(capacities=["loose"])
    obs = _to_first_offer(a)
    mask = obs.data["action_mask"]
    assert mask[0] == 1 and mask.dtype == np.int8 and a.observation_space.contains(
        {k: obs.data[k] for k in a.observation_space.spaces})
    legal = np.flatnonzero(mask)
    expected = int(a.offered()[legal[-1] - 1])
    r = a.step(np.int64(legal[-1]))
    assert r.info["request"] == expected and not r.info.get("invalid_action")
    masked = np.flatnonzero(r.observation.data["action_mask"] == 0)
    r = a.step(int(masked[0]))
    assert r.info["invalid_action"] and r.info["request"] == MALFORMED
    r = a.step(Action(structured=np.array([1, 2])))
    assert r.info["invalid_action"]
    r = a.step(0)
    assert r.info["request"] == SLOW and not r.info.get("invalid_action")


@pytest.mark.parametrize("policy", ["heuristic", "random", "search"])
def test_step_rewards_sum_to_the_verifier_total(policy):
    a = _arena(workloads=["unet_small"], capacities=["tight"])
    pol = None

    def act(obs):
        nonlocal pol
        pol = pol or a.policy(policy)
        return pol(obs)

    last, rewards = _play(a, act)
    bd = last.info["reward_breakdown"]
    assert last.info["termination"] == "completed" and len(rewards) == a.game.workload.n_buffers
    assert sum(rewards) == pytest.approx(bd["total"], abs=1e-12)
    assert bd["components"]["invalid_actions"] == 0
    if policy == "heuristic":
        assert bd["components"]["speedup"] == pytest.approx(0.0, abs=1e-12) and bd["passed"]
    if policy == "search":
        assert bd["components"]["speedup"] >= -1e-12
    assert bd["details"]["speedup"]["t_agent"] == pytest.approx(a.game.cost.total, rel=1e-9)


def test_penalties_are_part_of_the_total():
    a = _arena(invalid_action_penalty=0.05)
    last, rewards = _play(a, lambda obs: "???" if a.game.k % 3 == 0 else "slow")
    bd = last.info["reward_breakdown"]
    n_bad = -(-a.game.workload.n_buffers // 3)
    assert a.invalid_actions == n_bad and bd["components"]["invalid_actions"] == -n_bad
    assert sum(rewards) == pytest.approx(bd["components"]["speedup"] - 0.05 * n_bad, abs=1e-12)
    assert sum(rewards) == pytest.approx(bd["total"], abs=1e-12)


def test_search_beats_the_heuristic_where_packing_is_tight():
    a = _arena(workloads=["unet"], capacities=["tight"])
    task = a.tasks("test")[0]
    margins = {}
    for name in ("best_rule", "search"):
        pol = {}
        last, _ = _play(a, lambda obs, pol=pol, name=name: pol.setdefault("p", a.policy(name))(obs), task)
        margins[name] = last.info["reward_breakdown"]["components"]["speedup"]
    assert margins["best_rule"] > 0.005 and margins["search"] >= margins["best_rule"] - 1e-12


def test_agent_specs_reach_the_arena_policies():
    a = _arena()
    for spec in ("heuristic", "policy:best_rule", "policy:search", "random"):
        agent = make_agent_factory(spec)()
        obs = a.reset(a.tasks("train")[0], seed=3)
        agent.reset(EpisodeContext("memory", a.task.id, "train", 3, policy=a.policy,
                                   action_space=a.action_space))
        while True:
            r = a.step(agent.act(obs))
            obs = r.observation
            if r.done:
                break
        assert a.invalid_actions == 0, spec
    assert a.policy("oracle") is None


def test_turn_cap_still_reports_a_breakdown():
    a = _arena(max_turns=5)
    last, rewards = _play(a, lambda obs: "slow")
    assert last.truncated and len(rewards) == 5 and "reward_breakdown" in last.info


@pytest.mark.parametrize("view", ["structured", "text"])
def test_gymnasium_env_checker_passes(view):
    env = gym.make("arenas/memory-v0", view=view, workloads=["gpt_tiny", "mlp_small"])
    check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    if view == "structured":
        assert env.observation_space.contains(obs) and info["action_mask"][0] == 1
    env.close()
