"""The arena charges the configured costs, checked against hand-computed values on a tiny market
(not against the verifier, which reads the same config), and tells the agent why weights were repaired."""

import math

import numpy as np
import pytest

from arenas.portfolio.arena import PortfolioArena
from arenas.portfolio.data import Universe

DAYS = 100


def _market() -> Universe:
    """Two assets: A grows 10% a day, B never moves, so every period's drift is known by hand."""
    dates = np.datetime64("2000-01-03") + np.arange(DAYS)
    prices = np.column_stack([1.1 ** np.arange(DAYS), np.ones(DAYS)])
    return Universe.from_prices("tiny", ["A", "B"], dates, prices, "synthetic")


def _arena(**config) -> PortfolioArena:
    arena = PortfolioArena(_market(), split="test", rebalance="daily", horizon_days=3, anonymize=False,
                           tasks_per_split=1, **config)
    arena.reset(seed=0)
    return arena


@pytest.mark.parametrize("cost_bps", [0.0, 50.0, 200.0])
def test_step_rewards_charge_turnover_times_the_configured_rate(cost_bps):
    arena = _arena(cost_bps=cost_bps)
    rate = cost_bps / 1e4
    # period 0: cash -> 50/50 trades 1.0; A grows 10%, so the book grows 1.05 and drifts to 0.55/1.05, 0.5/1.05
    # period 1: back to 50/50 trades 0.05/1.05; period 2: all to cash trades the whole risky book, 1.0
    turnovers = [1.0, 0.05 / 1.05, 1.0]
    growths = [1.05, 1.05, 1.0]
    replies = ['{"A": 0.5, "B": 0.5}', '{"A": 0.5, "B": 0.5}', '{"CASH": 1}']
    for reply, turnover, growth in zip(replies, turnovers, growths, strict=True):
        result = arena.step(reply)
        assert not result.info["invalid_action"]
        assert result.info["turnover"] == pytest.approx(turnover, abs=1e-12)
        assert result.reward == pytest.approx(math.log(1 - rate * turnover) + math.log(growth), abs=1e-12)
    assert result.done
    expected_cost = sum(math.log(1 - rate * t) for t in turnovers)
    assert arena.market.log_value == pytest.approx(expected_cost + 2 * math.log(1.05), abs=1e-12)


def test_repair_message_reaches_the_next_text_observation():
    arena = _arena(cost_bps=10.0)
    result = arena.step('{"A": 0.5, "ZZZ": 0.5}')
    reason = result.info["invalid_reason"]
    assert result.info["invalid_action"] and "ZZZ" in reason
    text = result.observation.messages[-1]["content"]
    assert "repaired" in text and reason in text
    clean = arena.step('{"A": 0.5, "B": 0.5}')
    assert "repaired" not in clean.observation.messages[-1]["content"]
