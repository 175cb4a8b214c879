import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agent_spec import make_agent_factory
from arenas.portfolio.baselines import NAMES
from arenas.verifiers import portfolio as pv

CONFIGS = [
    {"rebalance": "daily", "horizon_days": 40},
    {"rebalance": "weekly", "horizon_days": 120, "cost_model": "trf", "cost_bps": 50},
    {"rebalance": "monthly", "horizon_days": 504, "reward": "excess", "esg_rate": 0.05},
    {"universe": "factors", "split": "test", "rebalance": "weekly", "horizon_days": 100, "invalid_penalty": 0.01},
    {"universe": "indices", "rebalance": "daily", "horizon_days": 30, "cost_model": "trf"},
]


def _random_submission(rng, tickers):
    kind = rng.integers(6)
    n = len(tickers)
    if kind == 0:
        return rng.random(n + 1).astype(np.float32)
    if kind == 1:
        return json.dumps({str(t): round(float(w), 4) for t, w in zip(tickers, rng.dirichlet(np.ones(n)), strict=True)})
    if kind == 2:
        return {str(rng.choice(list(tickers) + ["CASH", "XYZ"])): float(rng.normal()) for _ in range(3)}
    if kind == 3:
        return "HOLD"
    if kind == 4:
        return "no idea " * int(rng.integers(3))
    return np.array([np.nan, *rng.random(n)])


@pytest.mark.parametrize("config", CONFIGS)
def test_verifier_recomputes_every_reward_from_the_action_log(config):
    arena = arenas.make("portfolio", **config)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        obs = arena.reset(seed=seed)
        log, rewards = [], []
        while True:
            sub = _random_submission(rng, arena.view.tickers)
            result = arena.step(sub)
            log.append(sub)
            rewards.append(result.reward)
            if result.done:
                break
        assert result.info["termination"] == "end_of_window"
        replay = pv.replay(log, arena.episode_reference(arena.task))
        np.testing.assert_allclose(rewards, replay.step_rewards, atol=1e-9, rtol=0)
        final = result.info["reward_breakdown"]
        assert final["components"].keys() == replay.breakdown.components.keys()
        for name, value in final["components"].items():
            assert value == pytest.approx(replay.breakdown.components[name], abs=1e-9)
        assert final["total"] == pytest.approx(replay.breakdown.total, abs=1e-9)
        assert replay.invalid.sum() == arena.invalid_actions
        assert obs is not None


def test_invalid_actions_never_crash_and_explain_themselves():
    arena = arenas.make("portfolio", rebalance="daily", horizon_days=400, tool_turns=400, anonymize=False)
    arena.reset(seed=3)
    rng = np.random.default_rng(0)
    junk = ["", "{", '{"AAPL": "x"}', "[1, 2]", '{"AAPL": -1}', '{"AAPL": 5, "CASH": 5}', None, 7, 2.5,
            {"content": "HOLD"}, {"content": None, "tool_calls": [{"function": {"name": "nope", "arguments": "{"}}]},
            '<tool_call>{"name": "returns", "arguments": {"days": "many"}}</tool_call>',
            '<tool_call>{"name": "prices", "arguments": {"ticker": "ZZZ"}}</tool_call>',
            '<tool_call>not json</tool_call>', np.full(21, np.inf), np.zeros(3), "\x00\x01" * 50]
    invalid = 0
    for i in range(300):
        action = junk[i % len(junk)] if i % 3 else bytes(rng.integers(0, 256, 12).astype(np.uint8)).decode("latin-1")
        before = arena.invalid_actions
        result = arena.step(action)
        if result.info.get("invalid_action"):
            invalid += 1
            assert arena.invalid_actions == before + 1
            assert result.info.get("invalid_reason") or "Invalid action" in result.observation.text
        assert np.isfinite(result.reward)
        if result.done:
            break
    assert invalid > 50
    w = arena.market.weights
    assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-9


def test_tools_answer_without_moving_time_and_the_turn_budget_holds_to_the_end():
    arena = arenas.make("portfolio", rebalance="weekly", horizon_days=50, max_turns=4, anonymize=False)
    arena.reset(seed=0)
    names = {t.name for t in arena.tools()}
    assert names == {"returns", "covariance", "drawdown", "prices", "rebalance"}
    result = arena.step('<tool_call>{"name": "returns", "arguments": {"days": 30}}</tool_call>'
                        '<tool_call>{"name": "prices", "arguments": {"ticker": "msft", "days": 3}}</tool_call>')
    assert arena.market.k == 0 and result.reward == 0.0 and not result.done
    assert "last 30 trading days" in result.observation.messages[0]["content"]
    assert result.observation.messages[1]["content"].count("\n") == 3
    result = arena.step('<tool_call>{"name": "rebalance", "arguments": {"weights": {"MSFT": 1}}}</tool_call>')
    assert arena.market.k == 1 and result.info["submission"] == {"MSFT": 1}
    assert arena.market.weights[arena.view.tickers.index("MSFT")] > 0.9
    for _ in range(2):
        result = arena.step('<tool_call>{"name": "drawdown", "arguments": {}}</tool_call>')
    assert result.done and result.info["termination"] == "max_turns" and arena.market.finished
    assert "reward_breakdown" in result.info


@pytest.mark.parametrize("name", ["heuristic", *NAMES])
def test_every_baseline_plays_a_deterministic_episode(name):
    scores = []
    for _ in range(2):
        arena = arenas.make("portfolio", split="dev", rebalance="weekly", horizon_days=252)
        obs = arena.reset(seed=11)
        policy = arena.policy(name)
        while not (result := arena.step(policy(obs))).done:
            obs = result.observation
        scores.append(result.info["reward_breakdown"])
    assert scores[0] == scores[1]
    assert arena.invalid_actions == 0
    if name == "equal_weight":
        assert scores[0]["components"]["excess_log_return"] == pytest.approx(0.0, abs=1e-12)
    if name == "oracle":
        assert scores[0]["components"]["excess_log_return"] > 1.0


def test_policy_agent_spec_finds_a_named_baseline():
    from arenas.agent import EpisodeContext

    arena = arenas.make("portfolio", rebalance="monthly")
    obs = arena.reset(seed=0)
    agent = make_agent_factory("policy:momentum")()
    agent.reset(EpisodeContext("portfolio", arena.task.id, "train", 0, policy=arena.policy))
    assert arena.step(agent.act(obs)).info["invalid_action"] is False
    assert arena.policy("no_such_rule") is None


@pytest.mark.parametrize("view", ["structured", "text"])
def test_gymnasium_env_passes_check_env(view):
    env = gym.make("arenas/portfolio-v0", view=view, rebalance="weekly", horizon_days=60)
    check_env(env.unwrapped, skip_render_check=True)
    if view == "structured":
        assert isinstance(env.action_space, gym.spaces.Box) and env.action_space.shape == (21,)
        obs, _ = env.reset(seed=0)
        done = False
        while not done:
            obs, reward, term, trunc, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
            done = term or trunc
        assert "reward_breakdown" in info
    env.close()


def test_a_recorded_trajectory_is_rescored_from_its_json_alone():
    from arenas.portfolio.arena import rescore
    from arenas.tools import as_action
    from arenas.trajectory import Trajectory, Turn

    config = {"rebalance": "monthly", "horizon_days": 252, "cost_model": "trf", "max_turns": 11, "anonymize": False}
    arena = arenas.make("portfolio", split="dev", **config)
    obs = arena.reset(arena.tasks("dev")[3], seed=0)
    rng = np.random.default_rng(0)
    actions = ['{"MSFT": 0.5, "KO": 0.5}', '<tool_call>{"name": "returns", "arguments": {}}</tool_call>',
               '<tool_call>{"name": "rebalance", "arguments": {"weights": {"AAPL": "60%", "XYZ": 1}}}</tool_call>',
               rng.random(21).astype(np.float32), {"JNJ": 1.0}, "HOLD", "gibberish"] * 3
    traj = Trajectory("portfolio", 0, arena.task.id, "dev", 0, 0, "test")
    for i, action in enumerate(actions):
        result = arena.step(action)
        traj.turns.append(Turn(i, obs.messages, as_action(action).to_dict(), result.reward, result.info))
        obs = result.observation
        if result.done:
            break
    assert result.info["termination"] == "max_turns" and arena.market.finished
    recorded = json.loads(traj.to_json())
    replay = rescore(recorded, **config)
    assert replay.breakdown.total == pytest.approx(result.info["reward_breakdown"]["total"], abs=1e-9)
    assert replay.step_rewards.sum() == pytest.approx(sum(t["reward"] for t in recorded["turns"]) +
                                                      0.001 * sum("period" not in t["info"] and
                                                                  t["info"]["invalid_action"]
                                                                  for t in recorded["turns"]), abs=1e-9)


def test_baselines_do_what_their_names_say():
    """Checked against their definitions, not against a repeat of themselves: buy-and-hold trades
    only once, equal weight rebalances to 1/n (no cash) every period, random depends on its seed."""
    import numpy as np

    def play(name, seed=11):
        arena = arenas.make("portfolio", split="dev", rebalance="weekly", horizon_days=252)
        obs = arena.reset(seed=seed)
        policy, infos = arena.policy(name), []
        while not (result := arena.step(policy(obs))).done:
            infos.append(result.info)
            obs = result.observation
        infos.append(result.info)
        return arena, infos

    _, infos = play("buy_and_hold")
    assert infos[0]["turnover"] > 0.99 and all(i["turnover"] == pytest.approx(0.0, abs=1e-12) for i in infos[1:])
    arena, _ = play("equal_weight")
    n = arena.data.n_assets
    assert np.allclose(arena._targets[:, :n], 1.0 / n) and np.allclose(arena._targets[:, n], 0.0)
    totals = {play("random", seed)[1][-1]["reward_breakdown"]["total"] for seed in (1, 2)}
    assert len(totals) == 2
