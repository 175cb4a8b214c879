"""No look-ahead: scrambling every price after day t leaves every observation up to t unchanged."""

import json

import numpy as np
import pytest

import arenas
from arenas.portfolio.market import LookAheadError, Market

TOOLS = ('<tool_call>{"name": "returns", "arguments": {"days": 40}}</tool_call>'
         '<tool_call>{"name": "covariance", "arguments": {"days": 30}}</tool_call>'
         '<tool_call>{"name": "drawdown", "arguments": {"days": 300}}</tool_call>'
         '<tool_call>{"name": "prices", "arguments": {"ticker": "AAPL", "days": 5}}</tool_call>')


def _play(arena, task, text: bool, steps: int):
    """Observations (text, arrays) seen at each decision, with the tools' answers in text mode."""
    rng = np.random.default_rng(5)
    seen = []
    obs = arena.reset(task, seed=0)
    n = arena.data.n_assets
    for _ in range(steps):
        record = {"day": arena.market.t, "text": obs.text,
                  "data": {k: np.array(v) for k, v in obs.data.items()}}
        if text:
            record["tools"] = arena.step(TOOLS).observation.text
            action = json.dumps({t: round(float(w), 3) for t, w in zip(arena.view.tickers, rng.dirichlet(np.ones(n)),
                                                                     strict=True)})
        else:
            action = rng.random(n + 1)
        seen.append(record)
        result = arena.step(action)
        obs = result.observation
        if result.done:
            break
    return seen


@pytest.mark.parametrize("text, config", [
    (True, {"rebalance": "weekly", "horizon_days": 200, "anonymize": False}),
    (False, {"rebalance": "daily", "horizon_days": 120, "cost_model": "trf"}),
    (False, {"rebalance": "monthly", "horizon_days": 600, "esg_rate": 0.03, "reward": "excess"}),
])
def test_future_prices_do_not_change_any_observation_up_to_t(sp500, perturbed_after, text, config):
    real = arenas.make("portfolio", universe=sp500, **config)
    task = real.tasks("train")[7]
    ref = task.reference
    cut = ref["t0"] + (ref["periods"] // 2) * ref["period_days"]
    fake = arenas.make("portfolio", universe=perturbed_after(sp500, cut), **config)
    assert fake.tasks("train")[7] == task
    a = _play(real, task, text, ref["periods"])
    b = _play(fake, task, text, ref["periods"])
    checked = 0
    for x, y in zip(a, b, strict=True):
        assert x["day"] == y["day"]
        if x["day"] > cut:
            continue
        checked += 1
        assert x["text"] == y["text"]
        assert x.get("tools") == y.get("tools")
        for key in x["data"]:
            np.testing.assert_array_equal(x["data"][key], y["data"][key])
    assert checked == ref["periods"] // 2 + 1
    later = [(x, y) for x, y in zip(a, b, strict=True) if x["day"] > cut]
    assert any(not np.array_equal(x["data"]["returns"], y["data"]["returns"]) for x, y in later)


def test_market_refuses_rows_after_the_decision_day(sp500):
    market = Market(sp500, 1000, 5, 10)
    assert market.history(30).shape == (30, 20)
    assert market.rows(900, 1001).shape == (101, 20)
    with pytest.raises(LookAheadError):
        market.rows(990, 1002)
